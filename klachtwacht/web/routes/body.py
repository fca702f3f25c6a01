"""The message's body and files: the sanitised body document for the sandboxed iframe, its ``cid:`` images, the attachments.

Each answers 404 (and writes an audit line) when the signed-in user may
not see the message. The body document carries its own strict CSP
(:data:`klachtwacht.web.safe_html.BODY_CSP`); attachments are always
downloads, never shown inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from klachtwacht.intake import load_raw
from klachtwacht.web.access import visible_message
from klachtwacht.web.attachments import attachment_bytes
from klachtwacht.web.guard import Ctx, error_page, page
from klachtwacht.web.safe_html import attachment_response_headers, body_document, body_response_headers, html_of, inline_parts, sanitize, text_to_html

__all__ = ["routes", "body_html"]


def _pk(request: Request) -> int:
    try:
        return int(request.path_params["pk"])
    except (KeyError, ValueError):
        return 0


def body_html(raw: bytes | None, text: str, pk: int) -> str:
    """The sanitised body of a message: its HTML part when it has one, else its text."""
    html = html_of(raw) if raw is not None else None
    if html is None:
        return text_to_html(text)
    parts = inline_parts(raw) if raw is not None else {}
    return sanitize(html, cid_url=lambda cid: f"/berichten/{pk}/cid/{quote(cid, safe='')}" if cid in parts else None)


def _missing(request: Request, ctx: Ctx, pk: int, action: str) -> Response:
    ctx.audit(action, "not-found", object=f"message {pk}" if pk else request.url.path[:200])
    return error_page(request, 404, "Niet gevonden", "Dit bericht bestaat niet of u heeft er geen toegang toe.", ctx=ctx)


@dataclass(frozen=True)
class _Stored:
    """What the routes of this module read of a message the user may see."""

    pk: int
    raw: bytes | None  # None once retention removed it
    parsed: dict[str, Any]


def _stored(request: Request, ctx: Ctx, action: str) -> _Stored | Response:
    """The message of the URL if the signed-in user may see it, else the 404 page (with its audit line)."""
    pk = _pk(request)
    with ctx.web.sessions() as session:
        message = visible_message(session, ctx.account, pk)
        if message is None:
            return _missing(request, ctx, pk, action)
        raw = None if message.purged_at is not None else load_raw(session, message.blob_sha256)
        return _Stored(pk, raw, dict(message.parsed or {}))


@page
async def body(request: Request, ctx: Ctx) -> Response:
    stored = _stored(request, ctx, "view-body")
    if isinstance(stored, Response):
        return stored
    text = str(stored.parsed.get("text") or "")
    return Response(body_document(body_html(stored.raw, text, stored.pk)), headers=body_response_headers())


@page
async def inline_image(request: Request, ctx: Ctx) -> Response:
    stored = _stored(request, ctx, "view-body")
    if isinstance(stored, Response):
        return stored
    raw = stored.raw
    found = inline_parts(raw).get(request.path_params.get("cid", "")) if raw is not None else None
    if found is None:
        return Response(status_code=404)
    content_type, data = found
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                                                             "Content-Security-Policy": "default-src 'none'", "Cross-Origin-Resource-Policy": "same-origin"})


@page
async def attachment(request: Request, ctx: Ctx) -> Response:
    try:
        index = int(request.path_params.get("n", "-1"))
    except ValueError:
        index = -1
    stored = _stored(request, ctx, "download")
    if isinstance(stored, Response):
        return stored
    pk, raw, listed = stored.pk, stored.raw, list(stored.parsed.get("attachments") or [])
    if not 0 <= index < len(listed) or raw is None:
        return error_page(request, 404, "Niet gevonden", "Deze bijlage bestaat niet (meer).", ctx=ctx)
    meta = listed[index]
    data = attachment_bytes(raw, str(meta.get("sha256", "")))
    if data is None:
        return error_page(request, 404, "Niet gevonden", "Deze bijlage kon niet worden gelezen.", ctx=ctx)
    ctx.audit("download", "ok", object=f"message {pk}", detail=f"attachment {index}")
    headers = attachment_response_headers(str(meta.get("filename") or ""), str(meta.get("content_type") or ""))
    headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return Response(data, headers=headers)


routes = [
    Route("/berichten/{pk}/inhoud", body, methods=["GET"]),
    Route("/berichten/{pk}/cid/{cid:path}", inline_image, methods=["GET"]),
    Route("/berichten/{pk}/bijlagen/{n}", attachment, methods=["GET"]),
]
