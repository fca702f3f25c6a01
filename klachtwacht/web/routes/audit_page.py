"""``GET /audit``: the coordinator reads and filters the audit log (newest first, paged)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from klachtwacht.web import audit
from klachtwacht.web.guard import Ctx, error_page, page, render
from rules.deadlines import AMSTERDAM

__all__ = ["routes"]


def _day(value: str) -> datetime | None:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(0), tzinfo=AMSTERDAM)
    except ValueError:
        return None


@page
async def audit_log(request: Request, ctx: Ctx) -> Response:
    if ctx.account.role not in ("coordinator", "beheerder"):
        ctx.audit("denied", "denied", object="/audit")
        return error_page(request, 404, "Niet gevonden", "Het auditlog is er alleen voor de klachtencoördinator en de beheerder.", ctx=ctx)
    q = request.query_params
    until = _day(q.get("tot", ""))
    where = audit.AuditFilter(
        actor=q.get("wie", "").strip()[:200], action=q.get("actie", "") if q.get("actie", "") in audit.ACTIONS else "",
        result=q.get("resultaat", "") if q.get("resultaat", "") in audit.RESULTS else "", object=q.get("object", "").strip()[:200],
        since=_day(q.get("van", "")), until=until + timedelta(days=1) if until else None,
    )
    try:
        page_no = max(1, int(q.get("pagina", "1")))
    except ValueError:
        page_no = 1
    with ctx.web.sessions() as session:
        rows, total = audit.search(session, where, page=page_no)
    ctx.audit("view-audit", "ok", object="audit log")
    pages = max(1, -(-total // audit.PAGE_SIZE))
    return render(request, "audit.html", {
        "title": "Auditlog", "rows": rows, "total": total, "page": page_no, "pages": pages, "actions": audit.ACTIONS, "results": audit.RESULTS,
        "q": {k: q.get(k, "") for k in ("wie", "actie", "resultaat", "object", "van", "tot")},
    }, ctx=ctx)


routes = [Route("/audit", audit_log, methods=["GET"])]
