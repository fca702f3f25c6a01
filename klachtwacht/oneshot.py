"""``ingest --once`` for operators: checked before it starts, watched while it runs.

Before anything is fetched, the servers the pass needs (broker, SMTP, register)
are tried once; if one is down, the command says which and stops (exit 2)
instead of fetching mail that cannot be finished. While the pass runs, a
thread reads how many messages are stored and how many rest, for the
progress bar and for the summary when the database goes away mid-pass.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.backoff import Backoff
from klachtwacht.config import Config
from klachtwacht.progress import progress

__all__ = ["preflight", "PassObserver", "ONE_SHOT_BACKOFF", "Snapshot"]

log = logging.getLogger(__name__)

#: A one-shot pass tries an unreachable mail server three times over a few seconds, not for minutes.
ONE_SHOT_BACKOFF = Backoff(base=1.0, cap=4.0, attempts=3)


def preflight(config: Config) -> list[str]:
    """The servers a pass needs that do not answer, one line each (empty: all answer)."""
    from klachtwacht.check import FAIL, check_broker, check_register, check_smtp

    results = [check_broker(config), check_smtp(config)]
    if config.register.backend == "zgw":
        results.extend(r for r in check_register(config) if r.name != "register zaaktype")
    return [r.detail for r in results if r.status == FAIL]


@dataclass
class Snapshot:
    """What the database held at the last look: all messages, and those at rest."""

    stored: int = 0
    at_rest: int = 0


class PassObserver:
    """Looks at the message counts every ``every`` seconds and reports progress."""

    def __init__(self, sessions: sessionmaker[Session], every: float = 0.25) -> None:
        self.sessions = sessions
        self.every = every
        self.before = self._look()
        self.last = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pass-progress", daemon=True)

    def _look(self) -> Snapshot:
        from klachtwacht.db.models import FINAL_STATES, Message

        with self.sessions() as session:
            stored = session.scalar(select(func.count()).select_from(Message)) or 0
            at_rest = session.scalar(select(func.count()).select_from(Message).where(Message.state.in_(FINAL_STATES))) or 0
        return Snapshot(stored, at_rest)

    def new(self) -> Snapshot:
        """Messages stored during this pass and how many of them (at most) are at rest."""
        stored = self.last.stored - self.before.stored
        return Snapshot(stored, max(0, min(stored, self.last.at_rest - self.before.at_rest)))

    def _run(self) -> None:
        with progress("ingest pass") as bar:
            while not self._stop.wait(self.every):
                try:
                    self.last = self._look()
                except Exception:  # the database went away: keep the last look for the summary
                    return
                new = self.new()
                bar.update(new.at_rest, new.stored or None, note=f"{new.stored} new messages stored")

    def __enter__(self) -> PassObserver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        try:
            self.last = self._look()
        except Exception:  # gone: the last look stands
            pass
