"""``/metrics`` of the running service: a small HTTP server in a thread (``[metrics] listen``).

Every request reads the database gauges afresh and adds the counters of
every worker process (multiprocess mode, see :mod:`klachtwacht.metrics.counters`).
Only ``GET /metrics`` is answered; the rest is 404.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.metrics import CONTENT_TYPE_LATEST, exposition

__all__ = ["MetricsServer"]

log = logging.getLogger(__name__)


class MetricsServer:
    """Serves ``exposition(sessions)`` at ``http://host:port/metrics`` until :meth:`close`."""

    def __init__(self, sessions: sessionmaker[Session], listen: str) -> None:
        host, _, port = listen.rpartition(":")
        handler = _handler(sessions)
        self.httpd = ThreadingHTTPServer((host, int(port)), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="metrics", daemon=True)

    def start(self) -> MetricsServer:
        self.thread.start()
        log.info("metrics served at http://%s:%d/metrics", self.httpd.server_address[0], self.port)
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(sessions: sessionmaker[Session]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            try:
                body = exposition(sessions)
            except Exception as exc:  # the database away: say so, keep serving
                log.warning("metrics: could not read the database (%s)", type(exc).__name__)
                self.send_error(503, "database unavailable")
                return
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one scrape every 15 s is not worth a log line

    return Handler
