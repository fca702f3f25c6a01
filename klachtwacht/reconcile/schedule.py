"""The nightly schedule: one scheduler at a time, each night reconciled once, a missed night caught up.

:func:`due_days` is the pure rule; :class:`NightlyScheduler` is the edge that
holds the ``schedule:reconcile`` lease, claims a night in ``reconcile_runs``
and runs it. Ticking twice, or from two hosts at once, runs nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from klachtwacht import lease
from klachtwacht.db.models import utcnow
from klachtwacht.reconcile.models import ReconcileRun
from rules.deadlines import AMSTERDAM

__all__ = ["due_days", "NightlyScheduler", "CATCH_UP_DAYS", "STALE_AFTER"]

log = logging.getLogger(__name__)

#: How many missed nights are caught up at most.
CATCH_UP_DAYS = 7
#: A claimed run that has not finished after this long is taken to have died with its process.
STALE_AFTER = timedelta(hours=3)
LEASE = "schedule:reconcile"


def due_days(now: datetime, at: time, finished: set[date], last: date | None, catch_up: int = CATCH_UP_DAYS) -> list[date]:
    """The days whose reconciliation is due at ``now`` (aware), oldest first.

    Day D is reconciled on the night after it, from ``at`` (local time) on
    D + 1. Without any earlier run only the last due night counts; after one,
    every night since it (at most ``catch_up``) is caught up.
    """
    local = now.astimezone(AMSTERDAM)
    latest = local.date() - timedelta(days=1) if local.time() >= at else local.date() - timedelta(days=2)
    if last is None:
        return [latest] if latest not in finished else []
    first = max(last + timedelta(days=1), latest - timedelta(days=catch_up - 1))
    days = []
    day = first
    while day <= latest:
        if day not in finished:
            days.append(day)
        day += timedelta(days=1)
    return days


class NightlyScheduler:
    """Runs ``run(day)`` for each due night, under the lease, claiming each night first."""

    def __init__(self, app: Any, run: Callable[[date], Any] | None = None, *, holder: str | None = None) -> None:
        self.app = app
        self.sessions = app.sessions
        self.holder = holder or app.holder
        hour, minute = (int(x) for x in app.config.reconcile.at.split(":"))
        self.at = time(hour, minute)
        self.run = run or self._reconcile

    def _reconcile(self, day: date) -> Any:
        from klachtwacht.reconcile.command import run_nightly

        result, _files = run_nightly(self.app, day)
        return result.report

    def tick(self, now: datetime | None = None) -> list[date]:
        """Run every due night now; return the days this tick ran."""
        now = now or utcnow()
        if not lease.acquire(self.sessions, LEASE, self.holder, STALE_AFTER.total_seconds()):
            return []
        ran: list[date] = []
        try:
            with self.sessions() as session:
                runs = list(session.scalars(select(ReconcileRun)))
            finished = {r.day for r in runs if r.finished_at is not None}
            last = max((r.day for r in runs), default=None)
            for day in due_days(now, self.at, finished, last):
                if self._claim(day, now):
                    self._run_one(day)
                    ran.append(day)
        finally:
            lease.release(self.sessions, LEASE, self.holder)
        return ran

    def _claim(self, day: date, now: datetime) -> bool:
        try:
            with self.sessions.begin() as session:
                row = session.get(ReconcileRun, day)
                if row is None:
                    session.add(ReconcileRun(day=day, holder=self.holder, started_at=now))
                    session.flush()
                    return True
                if row.finished_at is None and row.started_at < now - STALE_AFTER:
                    row.holder, row.started_at = self.holder, now
                    return True
                return False
        except IntegrityError:  # another scheduler claimed it a moment ago
            return False

    def _run_one(self, day: date) -> None:
        log.info("schedule: reconciling %s", day)
        try:
            report = self.run(day)
        except Exception:
            log.exception("schedule: reconciliation of %s could not run; it is retried at the next tick", day)
            with self.sessions.begin() as session:
                row = session.get(ReconcileRun, day)
                if row is not None:
                    session.delete(row)
            return
        with self.sessions.begin() as session:
            row = session.get(ReconcileRun, day)
            assert row is not None
            row.finished_at = utcnow()
            row.clean = bool(report.clean)
            row.exit_code = int(report.exit_code)
            row.findings = report.to_dict()["findings"]
