"""``GET /``: the review queue, per mailbox, oldest first; ``POST /in-een-keer``: bulk decisions (overig only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from klachtwacht.web import queue as review_queue
from klachtwacht.web.guard import Ctx, error_page, page, render

__all__ = ["routes", "BULK_LIMIT"]

#: At most this many messages in one bulk decision (one page of the queue).
BULK_LIMIT = review_queue.PAGE_SIZE


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


@page
async def queue(request: Request, ctx: Ctx) -> Response:
    account = ctx.account
    if not account.sees_mail:
        return RedirectResponse("/beheer", status_code=303)
    mailbox = request.query_params.get("postbus") or None
    if mailbox and mailbox not in account.mailboxes:
        ctx.audit("denied", "not-found", object=f"mailbox {mailbox}"[:200])
        return error_page(request, 404, "Niet gevonden", "Deze postbus bestaat niet of u heeft er geen toegang toe.", ctx=ctx)
    with ctx.web.sessions() as session:
        counts = review_queue.counts(session, account.mailboxes)
        result = review_queue.queue_page(session, account.mailboxes, mailbox=mailbox, page=_int(request.query_params.get("pagina"), 1))
        samples = _open_samples(ctx, session)
    from klachtwacht.review.labels import OVERIG_SUBTYPES

    return render(request, "queue.html", {
        "title": "Te beoordelen", "counts": counts, "total": sum(counts.values()) if not mailbox else result.total, "mailbox": mailbox,
        "result": result, "overig_subtypes": OVERIG_SUBTYPES, "samples": samples,
        "done": request.query_params.get("klaar"), "bulk_done": _int(request.query_params.get("verwerkt"), -1),
        "bulk_conflicts": _int(request.query_params.get("al"), 0),
    }, ctx=ctx)


def _open_samples(ctx: Ctx, session: object) -> list[object]:
    """Steekproef items waiting for this coordinator's confirmation (none for a secretaris)."""
    if not ctx.account.is_coordinator:
        return []
    from klachtwacht.review import steekproef

    return list(steekproef.open_samples(ctx.web.sessions, organisation=ctx.account.organisation))


@page
async def bulk(request: Request, ctx: Ctx) -> Response:
    """Mark the selected messages ``overig`` with one sub-type; a message another person decided meanwhile is skipped and counted."""
    from klachtwacht.errors import DecisionConflict
    from klachtwacht.review import decide
    from klachtwacht.review.labels import OVERIG_SUBTYPES
    from klachtwacht.web.access import visible_message

    assert ctx.form is not None
    subtype = ctx.field("soort")
    mailbox = ctx.field("postbus")
    ids = [_int(str(v), 0) for v in ctx.form.getlist("bericht")][: BULK_LIMIT + 1]
    if subtype not in OVERIG_SUBTYPES:
        return error_page(request, 400, "Kies een soort", "Kies bij 'overig' wat voor berichten het zijn. Er is niets veranderd.", ctx=ctx)
    if not ids or len(ids) > BULK_LIMIT:
        return error_page(request, 400, "Kies berichten", f"Vink 1 tot {BULK_LIMIT} berichten aan. Er is niets veranderd.", ctx=ctx)
    done, conflicts = 0, 0
    for pk in ids:
        with ctx.web.sessions() as session:
            allowed = visible_message(session, ctx.account, pk) is not None
        if not allowed:
            ctx.audit("denied", "not-found", object=f"message {pk}")
            continue
        try:
            decide.record_decision(ctx.web.sessions, ctx.web.flow, pk, label="overig", subtype=subtype, actor=ctx.account.name)
        except DecisionConflict:
            conflicts += 1
            ctx.audit("bulk-decide", "conflict", object=f"message {pk}")
            continue
        done += 1
        ctx.audit("bulk-decide", "ok", object=f"message {pk}", detail=f"overig/{subtype}")
        ctx.web.kick(pk)
    target = f"/?verwerkt={done}&al={conflicts}" + (f"&postbus={mailbox}" if mailbox in ctx.account.mailboxes else "")
    return RedirectResponse(target, status_code=303)


routes = [Route("/", queue, methods=["GET"]), Route("/in-een-keer", bulk, methods=["POST"])]
