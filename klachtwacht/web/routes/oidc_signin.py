"""Sign-in with the organisation (OpenID Connect, klachtwacht.web.oidc): an identity becomes a session of its linked account."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from klachtwacht.config import Config
from klachtwacht.db.models import User
from klachtwacht.web import audit
from klachtwacht.web.guard import error_page, origin_of, web_of
from klachtwacht.web.oidc import OidcClient, OidcIdentity, SignInRefused, oidc_routes
from klachtwacht.web.sessions import COOKIE, new_session

NO_ACCOUNT = "U bent aangemeld bij uw organisatie, maar er is geen klachtwacht-account aan u gekoppeld. Vraag de beheerder om toegang."


def routes_for(config: Config) -> list[Route]:
    if config.web.oidc is None:
        return []

    async def on_identity(request: Request, identity: OidcIdentity) -> Response:
        web, origin = web_of(request), origin_of(request)
        who = f"oidc {identity.tid}/{identity.oid}"
        with web.sessions.begin() as session:
            user = session.scalar(select(User).where(User.oidc_tid == identity.tid, User.oidc_oid == identity.oid))
            if user is None or user.disabled_at is not None:
                audit.record_in(session, "anonymous", "sign-in-failed", "denied", object=who, origin=origin, detail="no enabled account linked")
                session_id = None
            else:
                session_id = new_session(session, user.id, origin).id
                audit.record_in(session, user.name, "sign-in", "ok", object=f"user {user.name}", origin=origin, detail=who)
        if session_id is None:
            return error_page(request, 403, "Geen toegang", NO_ACCOUNT)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")
        return response

    def on_refused(request: Request, exc: SignInRefused) -> Response:
        audit.record(web_of(request).sessions, "anonymous", "sign-in-failed", "denied", object="oidc", origin=origin_of(request), detail=exc.reason)
        return error_page(request, 403, "Inloggen niet gelukt", exc.message)

    return oidc_routes(OidcClient(config.web.oidc), on_identity=on_identity, on_refused=on_refused)
