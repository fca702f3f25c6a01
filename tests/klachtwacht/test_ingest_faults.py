"""Faults during ingestion: each ends with every message stored exactly once after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from support.mail import mails
from support.tcpproxy import TcpProxy

from klachtwacht.db.models import FolderCursor, Message, Sighting
from klachtwacht.errors import AuthenticationFailed
from klachtwacht.queries import list_messages
from klachtwacht.runtime import run_ingest_once

#: Where a message rests when its work ended well; "failed" is never a successful end.
SETTLED = ("done", "review", "quarantined")

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).resolve().parents[2]


def _fill(dovecot: Any, count: int, seed: int = 5, folder: str = "INBOX") -> set[str]:
    ids = set()
    for i, (_, raw) in enumerate(mails(count, seed=seed)):
        dovecot.append("wethouder", folder, raw)
        ids.add(f"<test-{seed}-{i}@example.nl>")
    return ids


def _assert_once(app: Any, expected: set[str]) -> None:
    rows = list_messages(app.sessions)
    assert sorted(r["message_id"] for r in rows) == sorted(expected)
    with app.sessions() as session:
        places = session.execute(select(Sighting.mailbox, Sighting.folder, Sighting.uidvalidity, Sighting.uid)).all()
        assert len(places) == len(set(places))


def test_the_server_going_away_mid_fetch_resumes_and_stores_everything_once(setup: Any, dovecot: Any, classifier: Any) -> None:
    expected = _fill(dovecot, 60)
    with TcpProxy("127.0.0.1", dovecot.port) as proxy:
        setup.dovecot = dovecot
        setup.imap_port = proxy.port
        setup.extra = "batch_size = 7"  # several batches, so the cut lands between and inside them
        setup.mailbox("wethouder-devries", "wethouder")
        app = setup.app(classifier)
        try:
            proxy.cut_after_bytes(40_000)  # every connection dies after 40 kB from the server
            first = run_ingest_once(app)
            proxy.cut_after_bytes(None)
            assert first["mailboxes"][0]["reconnects"] >= 1 or first["mailboxes"][0]["errors"]
            run_ingest_once(app)
            _assert_once(app, expected)
            assert all(r["state"] in SETTLED for r in list_messages(app.sessions))
        finally:
            app.close()


def test_a_wrong_password_is_reported_and_other_mailboxes_still_run(setup: Any, dovecot: Any, classifier: Any) -> None:
    expected = _fill(dovecot, 3)
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder")
    setup.mailbox("griffie", "raad", role="raad")
    app = setup.app(classifier)
    try:
        dovecot.add_user("raad", "een-ander-wachtwoord")
        time.sleep(1.1)  # Dovecot re-reads its users file at most once a second
        summary = run_ingest_once(app)
        by_name = {m["name"]: m for m in summary["mailboxes"]}
        assert by_name["wethouder-devries"]["new"] == 3
        assert by_name["griffie"]["errors"] and "refused the login" in by_name["griffie"]["errors"][0]
        _assert_once(app, expected)
        with pytest.raises(AuthenticationFailed):
            app.connection(app.config.mailbox("griffie")).connect()
    finally:
        app.close()


def test_a_folder_that_disappears_is_reported_and_the_rest_is_read(setup: Any, dovecot: Any, classifier: Any) -> None:
    expected = _fill(dovecot, 4)
    expected |= _fill(dovecot, 2, seed=6, folder="Klachten")
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder", folders=("Klachten", "INBOX"))
    app = setup.app(classifier)
    try:
        run_ingest_once(app)
        dovecot.delete_folder("wethouder", "Klachten")
        more = _fill(dovecot, 3, seed=7)
        summary = run_ingest_once(app)
        errors = summary["mailboxes"][0]["errors"]
        assert len(errors) == 1 and errors[0].startswith("Klachten:")
        _assert_once(app, expected | more)
        with app.sessions() as session:
            cursor = session.get(FolderCursor, ("wethouder-devries", "Klachten"))
            assert cursor is not None and cursor.last_error
    finally:
        app.close()


def test_a_uidvalidity_change_rescans_without_duplicating_or_deleting(setup: Any, dovecot: Any, classifier: Any) -> None:
    expected = _fill(dovecot, 12, folder="Klachten")
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder", folders=("Klachten",))
    app = setup.app(classifier)
    try:
        run_ingest_once(app)
        old = dovecot.uidvalidity("wethouder", "Klachten")
        new = dovecot.recreate_folder("wethouder", "Klachten", keep_messages=True)
        assert new != old
        expected |= _fill(dovecot, 2, seed=8, folder="Klachten")
        summary = run_ingest_once(app)
        assert summary["mailboxes"][0]["fetched"] == 14  # the whole folder is read again
        _assert_once(app, expected)
        with app.sessions() as session:
            cursor = session.get(FolderCursor, ("wethouder-devries", "Klachten"))
            assert cursor is not None and cursor.epoch == 2 and cursor.uidvalidity == new
            # the old sightings are kept beside the new ones
            assert session.scalar(select(func.count()).select_from(Sighting).where(Sighting.uidvalidity == old)) == 12
            assert session.scalar(select(func.count()).select_from(Message)) == 14
    finally:
        app.close()


def test_a_crash_between_storing_and_acknowledging_stores_every_message_once_after_restart(setup: Any, dovecot: Any, smtp: Any, classifier: Any) -> None:
    expected = _fill(dovecot, 150)
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.extra = "batch_size = 5"
    setup.mailbox("wethouder-devries", "wethouder")
    config = setup.write()
    env = {**os.environ, "KW_TEST_PASSWORD": "geheim-wachtwoord", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "ingest", "--once", "--json"]
    engine = create_engine(setup.db_url)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline:
            try:
                with engine.connect() as conn:
                    stored = conn.execute(text("SELECT count(*) FROM sightings")).scalar_one()
            except Exception:  # schema not there yet
                stored = 0
            if stored >= 20:
                break
            time.sleep(0.02)
        assert 0 < stored < 150, "the crash must land in the middle of the pass"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    again = subprocess.run(command, env=env, capture_output=True, timeout=240)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    app = setup.app(classifier)
    try:
        _assert_once(app, expected)
        assert all(r["state"] in SETTLED for r in list_messages(app.sessions))
    finally:
        app.close()
