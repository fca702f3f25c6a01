"""Signing in and out (``GET /login`` is a form with ``username``, ``password`` and one hidden CSRF input)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from klachtwacht.web import audit, csrf
from klachtwacht.web.accounts import sign_in
from klachtwacht.web.guard import Ctx, origin_of, page, render, web_of
from klachtwacht.web.sessions import COOKIE, new_session, revoke

__all__ = ["routes"]

REASONS = {
    "verlopen": "Uw sessie is verlopen omdat u een tijd niets heeft gedaan. Meld u opnieuw aan; er is niets verloren gegaan.",
    "afgemeld": "U bent afgemeld.",
}
WRONG = "De gebruikersnaam of het wachtwoord klopt niet. Controleer beide en probeer het opnieuw."
LOCKED = "Na te veel mislukte pogingen is dit account tijdelijk geblokkeerd. Probeer het over {minutes} minuten opnieuw of vraag de beheerder om hulp."
FORM_EXPIRED = "Het aanmeldformulier was verlopen. Probeer het nog eens."


def _safe_target(value: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _form(request: Request, *, error: str | None = None, notice: str | None = None, status: int = 200, name: str = "") -> Response:
    token = request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_token()
    response = render(request, "login.html", {
        "title": "Aanmelden", "error": error, "notice": notice, "login_csrf": token, "username": name,
        "terug": _safe_target(request.query_params.get("terug") or None),
        "oidc": web_of(request).config.web.oidc is not None,
    }, status=status)
    response.set_cookie(csrf.LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/login")
    return response


async def login_form(request: Request) -> Response:
    return _form(request, notice=REASONS.get(request.query_params.get("reden", "")))


async def login(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    name = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    origin = origin_of(request)
    if not csrf.same(request.cookies.get(csrf.LOGIN_COOKIE), str(form.get(csrf.FIELD) or "")):
        audit.record(web.sessions, name or "anonymous", "csrf-failed", "denied", object="/login", origin=origin)
        return _form(request, error=FORM_EXPIRED, status=403, name=name)
    with web.sessions.begin() as session:
        result = sign_in(session, web.hasher, web.config.web, name, password[:1024])
        if result.user_id is None:
            audit.record_in(session, name or "anonymous", "sign-in-failed", "locked" if result.problem == "locked" else "denied", object=f"user {name}"[:200], origin=origin)
        else:
            row = new_session(session, result.user_id, origin)
            session_id = row.id
            audit.record_in(session, name, "sign-in", "ok", object=f"user {name}", origin=origin)
    if result.user_id is None:
        text = LOCKED.format(minutes=web.config.web.lockout_minutes) if result.problem == "locked" else WRONG
        return _form(request, error=text, status=400 if result.problem != "locked" else 429, name=name)
    response = RedirectResponse(_safe_target(request.query_params.get("terug") or None), status_code=303)
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


@page
async def logout(request: Request, ctx: Ctx) -> Response:
    with ctx.web.sessions.begin() as session:
        revoke(session, ctx.session_id)
        audit.record_in(session, ctx.account.name, "sign-out", "ok", object=f"user {ctx.account.name}", origin=ctx.origin)
    response = RedirectResponse("/login?reden=afgemeld", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/uitloggen", logout, methods=["POST"]),
]
