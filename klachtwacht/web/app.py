"""The review web app: :func:`create_app` builds the Starlette application from the configuration.

Every page is rendered on the server; every action is a plain
``<form method="post">`` with a CSRF token, so it works without JavaScript.
The one script (``static/keys.js``) adds keyboard shortcuts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from klachtwacht.config import Config
from klachtwacht.web.csp import app_policy
from klachtwacht.web.middleware import BodyLimit, SecurityHeaders
from klachtwacht.web.passwords import make_hasher
from klachtwacht.web.state import WebState

__all__ = ["create_app", "TEMPLATES", "STATIC"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    from klachtwacht.web import filters

    filters.install(templates.env)
    return templates


def _too_large(web: WebState) -> Callable[[Scope], ASGIApp]:
    def refuse(scope: Scope) -> ASGIApp:
        async def respond(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive)  # scope["app"] is set by Starlette before the middleware runs
            from klachtwacht.web.guard import error_page

            limit = web.config.web.max_request_bytes // 1024
            response = error_page(request, 413, "Te veel gegevens verstuurd",
                                  f"Wat u verstuurde is groter dan de {limit} kB die dit formulier aanneemt. Er is niets opgeslagen. Maak de toelichting korter en probeer het opnieuw.")
            await response(scope, receive, send)

        return respond

    return refuse


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def metrics(request: Request) -> Response:
    from klachtwacht.metrics import CONTENT_TYPE_LATEST, exposition

    web: WebState = request.app.state.web
    return Response(exposition(web.sessions), media_type=CONTENT_TYPE_LATEST)


def _in_background(sessions: sessionmaker[Session], services: Any) -> Callable[[int], None]:
    """Advance a decided message in a thread of this process (the embedded set-up: no separate worker)."""
    from klachtwacht.pipeline import advance

    def kick(message_pk: int) -> None:
        def run() -> None:
            try:
                advance(sessions, services, message_pk)
            except Exception:  # the sweeper of klachtwacht run picks it up again
                import logging

                logging.getLogger(__name__).warning("message %d: carrying out the decision failed; it is retried later", message_pk, exc_info=True)

        threading.Thread(target=run, name=f"kw-web-advance-{message_pk}", daemon=True).start()

    return kick


def create_app(
    config: Config, sessions: sessionmaker[Session], services: Any = None, *,
    hasher: PasswordHasher | None = None, kick: Callable[[int], None] | None = None,
) -> Starlette:
    """The app on ``sessions``; ``services`` (:class:`klachtwacht.pipeline.Services`) carries the flow decisions go through.

    ``kick`` is called with a message's id after a decision; by default the
    message is advanced in a background thread of this process.
    """
    from klachtwacht.web.routes import audit_page, body, login, message, oidc_signin, overview, queue, reports, settings

    flow = getattr(services, "flow", None)
    if kick is None:
        kick = _in_background(sessions, services) if services is not None and getattr(services, "steps", None) else (lambda pk: None)
    web = WebState(config=config, sessions=sessions, flow=flow, hasher=hasher or make_hasher(), templates=_templates(), kick=kick)
    refuse = _too_large(web)
    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
        *login.routes, *oidc_signin.routes_for(config), *queue.routes, *message.routes, *body.routes, *overview.routes, *reports.routes, *audit_page.routes,
        *settings.routes,
    ]
    middleware = [
        Middleware(SecurityHeaders, csp=app_policy(config.web.theme_stylesheet)),
        Middleware(BodyLimit, limit=config.web.max_request_bytes, refuse=refuse),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.web = web
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    from klachtwacht.web.guard import error_page

    return error_page(request, 404, "Niet gevonden", "Deze pagina of dit bericht bestaat niet, of u heeft er geen toegang toe.")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    from klachtwacht.web.guard import error_page

    return error_page(request, 405, "Niet toegestaan", "Deze pagina werkt zo niet. Gebruik de knoppen op de pagina.")
