"""``/rapporten``: the coordinator reads the nightly reconciliation reports and the audit of the past in the app.

The reports are the files ``klachtwacht reconcile`` and ``klachtwacht audit`` write into
``[reconcile] report_dir``; the app only lists and serves them. A report is a
document of its own (inline styles, SVG charts, no script), served under a
policy that lets it load nothing; its CSV files download as attachments.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from klachtwacht.reconcile.command import report_folder
from klachtwacht.web.downloads import attachment_response_headers
from klachtwacht.web.guard import Ctx, error_page, page, render
from rules.deadlines import AMSTERDAM

__all__ = ["routes", "REPORT_CSP"]

#: Only names klachtwacht writes: never a path, never another file of the folder.
_NAME = re.compile(r"^(controle|terugblik)-[A-Za-z0-9_.-]+\.(html|csv)$")
#: A report loads nothing and runs nothing: its styles are inline, its charts inline SVG.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
_KINDS = {"controle": "nachtelijke controle", "terugblik": "terugblik (audit van het verleden)"}


def _refused(request: Request, ctx: Ctx, what: str) -> Response:
    ctx.audit("view-report", "not-found", object=what[:200])
    return error_page(request, 404, "Niet gevonden", "Dit rapport bestaat niet of is er alleen voor de klachtencoördinator.", ctx=ctx)


def _reports(folder: Path) -> list[dict[str, object]]:
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and _NAME.match(p.name) and p.suffix == ".html"]
    rows: list[dict[str, object]] = []
    for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True):
        kind = path.name.split("-", 1)[0]
        written = datetime.fromtimestamp(path.stat().st_mtime, AMSTERDAM)
        csvs = sorted(p.name for p in folder.glob(path.stem + "*.csv") if _NAME.match(p.name))
        rows.append({"name": path.name, "kind": _KINDS[kind], "written": written.strftime("%d-%m-%Y %H:%M"), "csvs": csvs})
    return rows


@page
async def report_list(request: Request, ctx: Ctx) -> Response:
    if not ctx.account.is_coordinator:
        return _refused(request, ctx, "/rapporten")
    rows = _reports(report_folder(ctx.web.config))
    ctx.audit("view-report", "ok", object="rapporten")
    return render(request, "reports.html", {"title": "Rapporten", "rows": rows}, ctx=ctx)


@page
async def report_file(request: Request, ctx: Ctx) -> Response:
    name = str(request.path_params.get("name", ""))
    if not ctx.account.is_coordinator or not _NAME.match(name):
        return _refused(request, ctx, f"rapport {name}")
    path = report_folder(ctx.web.config) / name
    if not path.is_file():
        return _refused(request, ctx, f"rapport {name}")
    ctx.audit("view-report", "ok", object=f"rapport {name}")
    if name.endswith(".csv"):
        return Response(path.read_bytes(), headers=attachment_response_headers(name, "text/csv"))
    headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return Response(path.read_bytes(), media_type="text/html; charset=utf-8", headers=headers)


routes = [Route("/rapporten", report_list, methods=["GET"]), Route("/rapporten/{name}", report_file, methods=["GET"])]
