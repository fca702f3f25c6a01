"""The watcher: IDLE brings new mail in at once; polling is the safety net."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from support.dovecot import Dovecot
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.queries import list_messages
from klachtwacht.runtime import run_service

#: Where a message rests when its work ended well; "failed" is never a successful end.
SETTLED = ("done", "review", "quarantined")

pytestmark = pytest.mark.dovecot


def _wait_for(app: Any, count: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = [r for r in list_messages(app.sessions) if r["state"] in SETTLED]
        if len(rows) >= count:
            break
        time.sleep(0.05)
    return rows


def _serve(app: Any) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=run_service, args=(app, ("watch", "worker")), kwargs={"threads": 2, "stop": stop}, daemon=True)
    thread.start()
    return stop, thread


@pytest.mark.parametrize("exchange_like", [False, True], ids=["dovecot", "exchange-capabilities"])
def test_idle_brings_a_new_message_in_without_waiting_for_the_poll(setup: Any, smtp: Any, exchange_like: bool) -> None:
    dovecot = Dovecot(exchange_like=exchange_like)
    dovecot.add_user("wethouder", "geheim-wachtwoord")
    dovecot.start()
    try:
        setup.dovecot = dovecot
        setup.smtp = smtp
        setup.mailbox("wethouder-devries", "wethouder", poll_interval=300)
        app = setup.app(HeaderLabels())
        stop, thread = _serve(app)
        try:
            time.sleep(1.0)  # first poll done, IDLE started
            dovecot.append("wethouder", "INBOX", make_mail(subject="Nu [label:klacht p=0.97]", body="x", message_id="<idle@example.nl>"))
            rows = _wait_for(app, 1, timeout=15)
            assert [r["message_id"] for r in rows] == ["<idle@example.nl>"]
        finally:
            stop.set()
            thread.join(15)
            app.close()
    finally:
        dovecot.close()


def test_without_idle_the_periodic_poll_still_finds_new_mail(setup: Any, dovecot: Any, smtp: Any) -> None:
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", poll_interval=1, idle=False)
    app = setup.app(HeaderLabels())
    stop, thread = _serve(app)
    try:
        time.sleep(0.5)
        dovecot.append("wethouder", "INBOX", make_mail(subject="Poll [label:overig p=0.9]", body="x", message_id="<poll@example.nl>"))
        rows = _wait_for(app, 1, timeout=15)
        assert [r["message_id"] for r in rows] == ["<poll@example.nl>"]
    finally:
        stop.set()
        thread.join(15)
        app.close()
