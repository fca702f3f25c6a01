"""Keeping the long-running threads of a service alive.

Each part of ``klachtwacht run`` (a folder watcher, the sweeper) runs in a
thread that is meant to live until the service stops. Should one end anyway
(a bug, an error nobody expected), the supervisor logs why in one line and
starts it again after a backoff; the backoff starts over once a thread has
run for a while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.backoff import Backoff

__all__ = ["Supervisor", "HEALTHY_AFTER"]

log = logging.getLogger(__name__)

#: A thread that ran this long before it ended restarts without delay building up.
HEALTHY_AFTER = 120.0


@dataclass
class _Part:
    name: str
    target: Callable[[], None]
    thread: threading.Thread | None = None
    started: float = 0.0
    restarts: int = 0
    ended: str = ""
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Runs named parts in daemon threads and restarts the ones that end before ``stop``."""

    stop: threading.Event
    backoff: Backoff = Backoff(base=1.0, cap=60.0)
    parts: list[_Part] = field(default_factory=list)

    def add(self, name: str, target: Callable[[], None]) -> None:
        """Start ``target`` (which should run until ``stop`` is set) in a thread called ``name``."""
        part = _Part(name, target)
        self.parts.append(part)
        self._start(part)

    def _start(self, part: _Part) -> None:
        def run() -> None:
            try:
                part.target()
                part.ended = "returned"
            except BaseException as exc:
                part.ended = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")
                log.debug("thread %s ended", part.name, exc_info=True)

        part.started = time.monotonic()
        part.restart_at = None
        part.thread = threading.Thread(target=run, name=part.name, daemon=True)
        part.thread.start()

    def check(self) -> list[str]:
        """Restart every part whose thread ended before ``stop``; return the names restarted now."""
        restarted = []
        now = time.monotonic()
        for part in self.parts:
            if self.stop.is_set() or part.thread is None or part.thread.is_alive():
                continue
            if part.restart_at is None:
                if now - part.started >= HEALTHY_AFTER:
                    part.restarts = 0
                delay = self.backoff.delay(part.restarts)
                part.restarts += 1
                part.restart_at = now + delay
                log.error("thread %s stopped (%s); restarting in %.1f s", part.name, part.ended or "no reason given", delay)
            if now >= part.restart_at:
                self._start(part)
                restarted.append(part.name)
        return restarted

    def run(self, every: float = 0.5) -> None:
        """Check the parts every ``every`` seconds until ``stop`` is set."""
        while not self.stop.wait(every):
            self.check()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for part in self.parts:
            if part.thread is not None:
                part.thread.join(max(0.0, deadline - time.monotonic()))
