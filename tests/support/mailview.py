"""A tiny Starlette app that shows mail bodies the way the review app must: for the browser tests.

Not the product app: one page per body with ``<iframe sandbox src=/body/N>``,
the body document at ``/body/N`` under the headers the test chooses, and the
body's ``cid:`` images at ``/cid/N/<cid>``. :func:`serving` runs any ASGI app
with uvicorn in a thread on a free port of 127.0.0.1.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .services import free_port

__all__ = ["Shown", "mail_view_app", "serving", "cid_path"]

#: Seconds :func:`serving` waits for uvicorn to accept connections.
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Shown:
    """One body as the test app shows it."""

    document: str  # the whole document served at /body/N
    headers: Mapping[str, str] = field(default_factory=dict)  # its response headers (CSP and all)
    images: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)  # cid -> (type, bytes)
    sandbox: str | None = ""  # the iframe's sandbox attribute; None: no sandbox at all
    page_headers: Mapping[str, str] = field(default_factory=dict)  # headers of the embedding page


def cid_path(number: int, cid: str) -> str:
    """The local URL of image ``cid`` of body ``number``."""
    return "/cid/%d/%s" % (number, quote(cid, safe=""))


def mail_view_app(bodies: Mapping[int, Shown], *, cookie_seen: list[str] | None = None) -> Starlette:
    """The app: /page/N embeds /body/N in an iframe; /cid/N/<cid> serves its images.

    The page sets a SameSite=Lax session-like cookie; every image request
    appends the cookie it carried ("" when none) to ``cookie_seen``.
    """

    def shown(request: Request) -> tuple[int, Shown] | None:
        number = int(request.path_params["n"])
        return (number, bodies[number]) if number in bodies else None

    async def page(request: Request) -> Response:
        found = shown(request)
        if found is None:
            return Response(status_code=404)
        number, body = found
        sandbox = "" if body.sandbox is None else ' sandbox="%s"' % html.escape(body.sandbox)
        document = (
            '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Bericht %d</title></head>'
            '<body><h1>Bericht %d</h1><iframe%s title="Inhoud van het bericht" src="/body/%d" width="800" height="600"></iframe></body></html>'
        ) % (number, number, sandbox, number)
        response = HTMLResponse(document, headers=dict(body.page_headers))
        response.set_cookie("sessie", "geheim", httponly=True, samesite="lax", path="/")
        return response

    async def body(request: Request) -> Response:
        found = shown(request)
        if found is None:
            return Response(status_code=404)
        headers = {k: v for k, v in found[1].headers.items() if k.lower() != "content-type"}
        return HTMLResponse(found[1].document, headers=headers)

    async def image(request: Request) -> Response:
        found = shown(request)
        cid = str(request.path_params["cid"])
        if cookie_seen is not None:
            cookie_seen.append(request.cookies.get("sessie", ""))
        if found is None or cid not in found[1].images:
            return Response(status_code=404)
        ctype, data = found[1].images[cid]
        return Response(data, media_type=ctype, headers={"X-Content-Type-Options": "nosniff"})

    return Starlette(routes=[
        Route("/page/{n:int}", page),
        Route("/body/{n:int}", body),
        Route("/cid/{n:int}/{cid:path}", image),
    ])  # fmt: skip


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, name="mailview-%d" % port, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start on 127.0.0.1:%d" % port)
        time.sleep(0.02)
    try:
        yield "http://127.0.0.1:%d" % port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
