"""The watcher: IDLE brings new mail in at once; polling is the safety net."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.dovecot import Dovecot
from support.labels import HeaderLabels
from support.mail import make_mail

from ingest.imap import ImapConnection
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


def _server_logins(dovecot: Dovecot, user: str) -> int:
    return (dovecot.base / "dovecot.log").read_text(errors="replace").count(f"Login: user=<{user}>")


def _wait_ids(app: Any, ids: set[str], timeout: float) -> set[str]:
    """Wait until every Message-ID in ``ids`` is stored; return those that are not."""
    deadline = time.monotonic() + timeout
    missing = set(ids)
    while missing and time.monotonic() < deadline:
        missing = ids - {r["message_id"] for r in list_messages(app.sessions)}
        time.sleep(0.05)
    return missing


def test_new_mail_is_fetched_on_the_watchers_connection_without_logging_in_again(setup: Any, dovecot: Any, smtp: Any) -> None:
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", poll_interval=300)
    app = setup.app(HeaderLabels())
    stop, thread = _serve(app)
    try:
        assert _wait_ids(app, set(), 1) == set()
        time.sleep(1.0)  # first poll done, IDLE started
        before = _server_logins(dovecot, "wethouder")
        for i in range(10):
            mid = f"<one-by-one-{i}@example.nl>"
            dovecot.append("wethouder", "INBOX", make_mail(subject=f"Bericht {i} [label:overig p=0.9]", body="x", message_id=mid))
            assert _wait_ids(app, {mid}, timeout=20) == set()
        # each append above is one login of the test's own; the watcher made none
        assert _server_logins(dovecot, "wethouder") - before == 10
    finally:
        stop.set()
        thread.join(15)
        app.close()


def test_every_configured_folder_is_watched_with_idle(setup: Any, imap_server: Any, smtp: Any) -> None:
    server = imap_server
    server.append("wethouder", "Klachten", make_mail(subject="Eerder [label:overig p=0.9]", body="x", message_id="<early@example.nl>"))
    setup.imap_port = server.port
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", folders=("INBOX", "Klachten"), poll_interval=300)
    app = setup.app(HeaderLabels())
    stop, thread = _serve(app)
    try:
        assert _wait_ids(app, {"<early@example.nl>"}, timeout=30) == set()
        time.sleep(1.0)  # IDLE on both folders
        server.append("wethouder", "Klachten", make_mail(subject="Tweede map [label:klacht p=0.97]", body="x", message_id="<second-folder@example.nl>"))
        assert _wait_ids(app, {"<second-folder@example.nl>"}, timeout=20) == set()
        server.append("wethouder", "INBOX", make_mail(subject="Eerste map [label:overig p=0.9]", body="x", message_id="<first-folder@example.nl>"))
        assert _wait_ids(app, {"<first-folder@example.nl>"}, timeout=20) == set()
    finally:
        stop.set()
        thread.join(15)
        app.close()


class BurstAfterSearch:
    """Appends a burst of three messages right after the UID SEARCH of an armed poll: the window before IDLE."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, append: Callable[[str], None]) -> None:
        self.append = append
        self.armed: list[int] = []
        self.sent: list[str] = []
        original = ImapConnection.uids_from

        def uids_from(conn: ImapConnection, first_uid: int) -> list[int]:
            found = original(conn, first_uid)
            if self.armed:
                round_no = self.armed.pop()
                for j in range(3):
                    self.sent.append(f"<burst-{round_no}-{j}@example.nl>")
                    self.append(self.sent[-1])
            return found

        monkeypatch.setattr(ImapConnection, "uids_from", uids_from)

    def arm(self, round_no: int) -> set[str]:
        """Arm the next search; return the Message-IDs of the burst it brings."""
        self.armed.append(round_no)
        return {f"<burst-{round_no}-{j}@example.nl>" for j in range(3)}


def test_mail_arriving_between_the_polls_search_and_idle_is_fetched_within_seconds(setup: Any, imap_server: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def append(mid: str) -> None:
        imap_server.append("wethouder", "INBOX", make_mail(subject="Burst [label:overig p=0.9]", body="x", message_id=mid))

    burst = BurstAfterSearch(monkeypatch, append)
    setup.imap_port = imap_server.port
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", poll_interval=300)
    app = setup.app(HeaderLabels())
    stop, thread = _serve(app)
    try:
        time.sleep(1.0)
        for round_no in range(3):
            expected = burst.arm(round_no)  # the poll this trigger causes gets a burst right after its search
            trigger = f"<trigger-{round_no}@example.nl>"
            append(trigger)
            assert _wait_ids(app, expected | {trigger}, timeout=20) == set(), f"round {round_no}"
        assert len(burst.sent) == 9
    finally:
        stop.set()
        thread.join(15)
        app.close()
