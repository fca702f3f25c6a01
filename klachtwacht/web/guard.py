"""Signing in is checked here, once per request: the session from its cookie, the CSRF token on every POST.

A handler decorated with :func:`page` gets a :class:`Ctx` with the account;
without a valid session the browser goes to the sign-in page (with a Dutch
reason when the session expired); a POST without the right token is refused
with 403 and a line in the audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from klachtwacht.web import audit, csrf
from klachtwacht.web.accounts import Account, account_of
from klachtwacht.web.sessions import COOKIE, load_session
from klachtwacht.web.state import WebState

__all__ = ["Ctx", "page", "render", "error_page", "origin_of", "web_of", "KEYS_COOKIE"]

KEYS_COOKIE = "kw_sneltoetsen"
Handler = Callable[[Request, "Ctx"], Awaitable[Response]]


@dataclass
class Ctx:
    """The signed-in request: who, the session's CSRF token, the form of a POST."""

    request: Request
    web: WebState
    account: Account
    session_id: str
    csrf: str
    origin: str | None
    form: FormData | None = None
    flash: list[str] = field(default_factory=list)

    def audit(self, action: str, result: str, *, object: str | None = None, detail: str | None = None) -> None:
        audit.record(self.web.sessions, self.account.name, action, result, object=object, origin=self.origin, detail=detail)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""


def web_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def origin_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def shortcuts_on(request: Request) -> bool:
    """The configured default, unless this browser's user switched them (WCAG 2.1.4)."""
    chosen = request.cookies.get(KEYS_COOKIE)
    if chosen in ("aan", "uit"):
        return chosen == "aan"
    return web_of(request).config.web.single_key_shortcuts


def render(request: Request, name: str, context: Mapping[str, Any], *, status: int = 200, ctx: Ctx | None = None) -> Response:
    web = web_of(request)
    full = {
        "theme_class": web.config.web.theme_class,
        "theme_stylesheet": web.config.web.theme_stylesheet,
        "shortcuts": shortcuts_on(request),
        "account": ctx.account if ctx else None,
        "csrf": ctx.csrf if ctx else None,
        **context,
    }
    return web.templates.TemplateResponse(request, name, full, status_code=status)


def error_page(request: Request, status: int, title: str, text: str, *, ctx: Ctx | None = None) -> Response:
    return render(request, "fout.html", {"title": title, "text": text}, status=status, ctx=ctx)


def _to_login(request: Request, reason: str | None) -> Response:
    target = "/login"
    if reason:
        target += f"?reden={reason}"
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and back not in ("/", "/login"):
        target += ("&" if "?" in target else "?") + "terug=" + quote(back, safe="")
    return RedirectResponse(target, status_code=303)


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler that needs a signed-in user (and, for POST, a valid CSRF token)."""

    @wraps(handler)
    async def wrapped(request: Request) -> Response:
        web = web_of(request)
        with web.sessions.begin() as session:
            loaded = load_session(session, request.cookies.get(COOKIE), idle=web.idle)
            if loaded.session is None or loaded.user is None:
                problem = loaded.problem
                account = None
            else:
                account = account_of(session, web.config, loaded.user)
                session_id, token = loaded.session.id, loaded.session.csrf
        if account is None:
            return _to_login(request, "verlopen" if problem == "expired" else None)
        ctx = Ctx(request, web, account, session_id, token, origin_of(request))
        if request.method == "POST":
            ctx.form = await request.form()
            given = ctx.form.get(csrf.FIELD) or request.headers.get(csrf.HEADER)
            if not csrf.same(token, given if isinstance(given, str) else None):
                ctx.audit("csrf-failed", "denied", object=request.url.path)
                return error_page(
                    request, 403, "Formulier niet geaccepteerd",
                    "Dit formulier is verlopen of kwam niet van deze pagina (de beveiligingscode klopt niet). Er is niets veranderd. "
                    "Ga terug, laad de pagina opnieuw en probeer het nog eens.", ctx=ctx,
                )
        return await handler(request, ctx)

    return wrapped
