"""``GET /overzicht``: the coordinator's view per mailbox and ISO week, with the measured quality of the model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from klachtwacht.web.chart import weekly_bars
from klachtwacht.web.figures import figures
from klachtwacht.web.guard import Ctx, error_page, page, render

__all__ = ["routes"]


@page
async def overview(request: Request, ctx: Ctx) -> Response:
    if not ctx.account.is_coordinator:
        ctx.audit("denied", "denied", object="/overzicht")
        return error_page(request, 404, "Niet gevonden", "Deze pagina is er alleen voor de klachtencoördinator.", ctx=ctx)
    with ctx.web.sessions() as session:
        result = figures(session, ctx.account.mailboxes)
    measured = None
    try:
        from klachtwacht.review import measure

        measured = measure.measured(ctx.web.sessions, organisation=ctx.account.organisation, config=ctx.web.config)
    except ImportError:  # the review package is not there yet
        measured = None
    chart = weekly_bars(result.totals, title="Berichten per week, naar soort, alle postbussen samen")
    return render(request, "overview.html", {"title": "Overzicht", "figures": result, "chart": chart, "measured": measured}, ctx=ctx)


routes = [Route("/overzicht", overview, methods=["GET"])]
