"""The nightly schedule: one night once, whoever ticks; missed nights caught up (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time as clock
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from support.labels import HeaderLabels

from klachtwacht.reconcile.findings import Report
from klachtwacht.reconcile.models import ReconcileRun
from klachtwacht.reconcile.schedule import CATCH_UP_DAYS, NightlyScheduler, due_days
from rules.deadlines import AMSTERDAM

AT = time(2, 30)
#: 3 December 2026, 03:00 in Amsterdam (CET, UTC+1).
NIGHT = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)


def test_a_night_is_due_from_the_configured_time_the_day_after() -> None:
    before = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)  # 02:00 local
    assert due_days(before, AT, set(), None) == [date(2026, 12, 1)]
    assert due_days(NIGHT, AT, set(), None) == [date(2026, 12, 2)]
    assert due_days(NIGHT, AT, {date(2026, 12, 2)}, date(2026, 12, 2)) == []


def test_missed_nights_are_caught_up_but_not_a_whole_history() -> None:
    assert due_days(NIGHT, AT, {date(2026, 11, 29)}, date(2026, 11, 29)) == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    long_ago = date(2026, 1, 1)
    days = due_days(NIGHT, AT, {long_ago}, long_ago)
    assert len(days) == CATCH_UP_DAYS and days[-1] == date(2026, 12, 2)


def _app(setup: Any) -> Any:
    setup.extra = '[reconcile]\nat = "02:30"\n'
    return setup.app(HeaderLabels())


def test_two_schedulers_started_at_once_run_each_night_once(setup: Any) -> None:
    app = _app(setup)
    calls: list[tuple[str, date]] = []
    lock = threading.Lock()

    def run_as(name: str) -> Any:
        def run(day: date) -> Report:
            with lock:
                calls.append((name, day))
            clock.sleep(0.3)  # long enough for the other scheduler to try the same night
            return Report(day, ())
        return run

    try:
        schedulers = [NightlyScheduler(app, run_as(name), holder="host-%s:1:1" % name) for name in ("a", "b")]
        barrier = threading.Barrier(2)

        def tick(s: NightlyScheduler) -> None:
            barrier.wait()
            for _ in range(5):
                s.tick(NIGHT)
                clock.sleep(0.05)

        threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert [day for _, day in calls] == [date(2026, 12, 2)]
        with app.sessions() as session:
            row = session.scalars(select(ReconcileRun)).one()
        assert row.day == date(2026, 12, 2) and row.clean is True and row.exit_code == 0
    finally:
        app.close()


def test_a_scheduler_that_was_down_for_two_nights_catches_them_up_in_order(setup: Any) -> None:
    app = _app(setup)
    ran: list[date] = []
    try:
        scheduler = NightlyScheduler(app, lambda day: ran.append(day) or Report(day, ()))
        assert scheduler.tick(NIGHT - timedelta(days=3)) == [date(2026, 11, 29)]
        assert scheduler.tick(NIGHT) == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
        assert scheduler.tick(NIGHT) == []
        assert ran == [date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    finally:
        app.close()


def test_a_night_that_could_not_run_is_tried_again_at_the_next_tick(setup: Any) -> None:
    app = _app(setup)
    attempts: list[date] = []

    def flaky(day: date) -> Report:
        attempts.append(day)
        if len(attempts) == 1:
            raise RuntimeError("database went away")
        return Report(day, ())

    try:
        scheduler = NightlyScheduler(app, flaky)
        assert scheduler.tick(NIGHT) == [date(2026, 12, 2)]
        assert scheduler.tick(NIGHT) == [date(2026, 12, 2)]
        assert scheduler.tick(NIGHT) == []
        assert attempts == [date(2026, 12, 2), date(2026, 12, 2)]
    finally:
        app.close()


def test_the_running_service_reconciles_last_night_by_itself_and_writes_the_report(setup: Any) -> None:
    from klachtwacht.runtime import run_service

    setup.extra = '[reconcile]\nat = "00:00"\n'  # last night is always due
    app = setup.app(HeaderLabels())
    stop = threading.Event()
    service = threading.Thread(target=run_service, args=(app, ("worker", "schedule")), kwargs={"threads": 2, "stop": stop}, daemon=True)
    service.start()
    try:
        deadline = clock.monotonic() + 90
        row = None
        while clock.monotonic() < deadline and row is None:
            with app.sessions() as session:
                row = session.scalars(select(ReconcileRun).where(ReconcileRun.finished_at.is_not(None))).first()
            clock.sleep(0.5)
        assert row is not None, "the service did not reconcile last night"
        assert row.day == datetime.now(timezone.utc).astimezone(AMSTERDAM).date() - timedelta(days=1)
        assert row.exit_code in (0, 1) and row.findings is not None
        reports = list((setup.tmp_path / "reports").glob("*.html"))
        assert reports, "no report written"
    finally:
        stop.set()
        service.join(timeout=30)
        app.close()
