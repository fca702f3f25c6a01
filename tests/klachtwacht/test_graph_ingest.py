"""A mailbox read over Microsoft Graph, end to end on SQLite and PostgreSQL, against our own Graph server.

The same ingestion guarantees as over IMAP: each message once, a second pass
fetches nothing, a message moved between folders is one message, a resync
after 410 duplicates nothing, throttling is honoured, a kill -9 in the middle
of a page loses and doubles nothing, the watcher brings new mail in, the
nightly reconciliation finds what the delta missed. Nothing here talks to
the real Graph service.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text, update
from support.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, GraphServer, graph_mailbox_toml
from support.labels import HeaderLabels
from support.mail import mails, make_mail

from ingest.graph import GRAPH_SCOPE, GRAPH_UIDVALIDITY, GraphClient, GraphMailbox
from ingest.graph.delta import pages
from ingest.tokens import MsalTokenProvider
from klachtwacht.db.models import FolderCursor, Message, Sighting
from klachtwacht.queries import list_messages, list_register
from klachtwacht.reconcile.command import run_nightly
from klachtwacht.runtime import run_ingest_once, run_service

USER = "burgemeester@veenstad.nl"
SETTLED = ("done", "review", "quarantined")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KW_TEST_GRAPH_SECRET", CLIENT_SECRET)


def _configure(setup: Any, server: GraphServer, folders: tuple[str, ...] = ("inbox",), batch: int = 5, extra: str = "", **more: Any) -> None:
    setup.extra = f"batch_size = {batch}\n{extra}\n" + graph_mailbox_toml(server, "burgemeester", USER, folders=folders, **more)


def _fill(server: GraphServer, count: int, seed: int = 14, folder: str = "inbox") -> dict[str, str]:
    """``count`` varied mails; Message-ID -> Graph id."""
    out = {}
    for i, (_, raw) in enumerate(mails(count, seed=seed)):
        out[f"<test-{seed}-{i}@example.nl>"] = server.add(USER, folder, raw)
    return out


def _assert_once(app: Any, expected: set[str]) -> None:
    rows = list_messages(app.sessions)
    assert sorted(r["message_id"] for r in rows) == sorted(expected)
    with app.sessions() as session:
        places = session.execute(select(Sighting.mailbox, Sighting.folder, Sighting.uidvalidity, Sighting.uid)).all()
        assert len(places) == len(set(places))


def _box(summary: dict[str, Any]) -> dict[str, Any]:
    [box] = summary["mailboxes"]
    assert box["errors"] == []
    return box


def test_a_graph_mailbox_stores_each_message_once_and_a_second_pass_fetches_nothing(setup: Any, graph_server: GraphServer) -> None:
    expected = set(_fill(graph_server, 23))
    klachten = graph_server.add_folder(USER, "Klachten")
    graph_server.add(USER, graph_server.add_folder(USER, "2026", parent=klachten), make_mail(subject="Diep", body="In een submap.", message_id="<deep@example.nl>"))
    expected.add("<deep@example.nl>")
    _configure(setup, graph_server, folders=("INBOX", "Klachten/2026"))
    app = setup.app(HeaderLabels())
    try:
        first = run_ingest_once(app)
        assert _box(first)["new"] == 24 and first["not_final"] == 0
        _assert_once(app, expected)
        assert all(r["state"] in SETTLED for r in list_messages(app.sessions))
        values = len(graph_server.graph_requests("$value"))
        second = run_ingest_once(app)
        assert _box(second)["fetched"] == 0 and second["new_messages"] == 0
        assert len(graph_server.graph_requests("$value")) == values  # nothing fetched twice
        with app.sessions() as session:
            cursors = session.scalars(select(FolderCursor)).all()
            assert {c.folder for c in cursors} == {"INBOX", "Klachten/2026"}
            assert all(c.uidvalidity == GRAPH_UIDVALIDITY and c.delta_link and "$deltatoken=" in c.delta_link for c in cursors)
    finally:
        app.close()
    assert {r.method for r in graph_server.graph_requests()} == {"GET"}  # read-only: nothing but GET ever reached Graph


def test_a_message_moved_between_graph_folders_is_one_message(setup: Any, graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 8)
    klachten = graph_server.add_folder(USER, "Klachten")
    _configure(setup, graph_server, folders=("INBOX", "Klachten"))
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        moved_mid = "<test-14-3@example.nl>"
        new_id = graph_server.move(USER, ids[moved_mid], klachten)
        assert new_id != ids[moved_mid]  # Graph gives a moved message a new id
        summary = run_ingest_once(app)
        assert _box(summary)["fetched"] == 1 and _box(summary)["new"] == 0  # a sighting in the other folder, not a new message
        _assert_once(app, set(ids))
        with app.sessions() as session:
            message = session.scalars(select(Message).where(Message.message_id == moved_mid)).one()
            assert sorted(s.folder for s in message.sightings) == ["INBOX", "Klachten"]
    finally:
        app.close()


def test_a_resync_after_410_duplicates_nothing(setup: Any, graph_server: GraphServer) -> None:
    expected = set(_fill(graph_server, 12))
    _configure(setup, graph_server)
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        graph_server.forget_sync_state()
        expected |= set(_fill(graph_server, 2, seed=15))
        summary = run_ingest_once(app)
        assert _box(summary)["fetched"] == 2 and _box(summary)["new"] == 2
        assert any(r.status == 410 for r in graph_server.graph_requests("/delta"))
        _assert_once(app, expected)
        with app.sessions() as session:
            cursor = session.get(FolderCursor, ("burgemeester", "inbox"))
            assert cursor is not None and cursor.epoch == 2
            assert session.scalar(select(func.count()).select_from(Sighting)) == 14
    finally:
        app.close()


def test_graph_throttling_is_waited_out_as_retry_after_says(setup: Any, graph_server: GraphServer) -> None:
    expected = set(_fill(graph_server, 6))
    _configure(setup, graph_server)
    app = setup.app(HeaderLabels())
    try:
        graph_server.throttle(2, retry_after=1)
        started = time.monotonic()
        summary = run_ingest_once(app)
        assert time.monotonic() - started >= 2.0
        assert _box(summary)["new"] == 6
        assert app.graph_source(app.config.mailbox("burgemeester")).client.waited == pytest.approx(2.0)
        assert [r.status for r in graph_server.graph_requests()[:3]] == [429, 429, 200]
        _assert_once(app, expected)
    finally:
        app.close()


def test_a_kill_9_mid_page_then_a_restart_loses_and_doubles_nothing(setup: Any, graph_server: GraphServer) -> None:
    expected = set(_fill(graph_server, 120, seed=16))
    graph_server.hold_after = 25  # pages of 10: two pages stored, the third stuck halfway through its fetches
    _configure(setup, graph_server, batch=10)
    config = setup.write()
    env = {**os.environ, "KW_TEST_PASSWORD": "geheim-wachtwoord", "KW_TEST_GRAPH_SECRET": CLIENT_SECRET, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "ingest", "--once", "--json"]
    engine = create_engine(setup.db_url)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None and not graph_server.held:
            time.sleep(0.01)
        assert graph_server.held, "the pass must reach the third page"
        time.sleep(0.3)  # what the process had to store, it stored
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM sightings")).scalar_one()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert stored == 20, "the kill lands after two stored pages, in the middle of the third"
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    graph_server.hold_after = None
    graph_server.hold.set()
    time.sleep(0.2)  # the held requests of the dead process are answered into the void
    fetched_before = len(graph_server.graph_requests("$value"))
    again = subprocess.run(command, env=env, capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert len(graph_server.graph_requests("$value")) - fetched_before == 100  # the stored pages are not fetched again
    app = setup.app(HeaderLabels())
    try:
        _assert_once(app, expected)
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Sighting)) == 120
        assert all(r["state"] in SETTLED for r in list_messages(app.sessions))
    finally:
        app.close()


def test_the_watcher_polls_a_graph_folder_and_brings_new_mail_in(setup: Any, graph_server: GraphServer) -> None:
    _configure(setup, graph_server, poll_interval=0.3)
    app = setup.app(HeaderLabels())
    stop = threading.Event()
    thread = threading.Thread(target=run_service, args=(app, ("watch", "worker")), kwargs={"threads": 2, "stop": stop}, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        graph_server.add(USER, "inbox", make_mail(subject="Nu [label:klacht p=0.97]", body="Tekst.", message_id="<watch@example.nl>"))
        deadline = time.monotonic() + 20
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not rows:
            rows = [r for r in list_messages(app.sessions) if r["state"] in SETTLED]
            time.sleep(0.05)
        assert [r["message_id"] for r in rows] == ["<watch@example.nl>"]
    finally:
        stop.set()
        thread.join(15)
        app.close()


def test_reconciliation_fetches_and_reports_graph_messages_the_delta_never_delivered(setup: Any, graph_server: GraphServer, smtp: Any) -> None:
    for n in range(3):
        graph_server.add(USER, "inbox", make_mail(subject="Klacht %d [label:klacht p=0.97]" % n, body="Tekst %d." % n, message_id="<k%d@example.nl>" % n,
                                                  sender="Burger %d <b%d@example.nl>" % (n, n)))
    _configure(setup, graph_server, extra='[reconcile]\nreport_dir = "rapporten"')
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        for n in (10, 11):
            graph_server.add(USER, "inbox", make_mail(subject="Gemist %d [label:klacht p=0.97]" % n, body="Tekst %d." % n, message_id="<k%d@example.nl>" % n,
                                                      sender="Gemist %d <g%d@example.nl>" % (n, n)))
        # as if a bug moved the cursor past them: a delta link taken after they arrived
        tokens = MsalTokenProvider(TENANT, CLIENT_ID, CLIENT_SECRET, scope=GRAPH_SCOPE, authority=graph_server.url, verify=str(graph_server.ca_file))
        with GraphClient(graph_server.endpoint, tokens, verify=str(graph_server.ca_file)) as client:
            link = [p for p in pages(client, GraphMailbox(client, USER).first_link("inbox"), 50)][-1].delta_link
        with app.sessions.begin() as session:
            session.execute(update(FolderCursor).values(delta_link=link))
        assert _box(run_ingest_once(app))["fetched"] == 0
        today = datetime.now(timezone.utc).date()
        result, _ = run_nightly(app, today)
        missing = [f for f in result.report.findings if f.kind == "mailbox_missing_messages"]
        assert len(missing) == 1 and missing[0].repaired and len(missing[0].messages) == 2
        assert {"<k10@example.nl>", "<k11@example.nl>"} <= {r["message_id"] for r in list_register(app.sessions)}
        again, _ = run_nightly(app, today)
        assert not [f for f in again.report.findings if f.kind in ("mailbox_missing_messages", "mailbox_unreachable")]
    finally:
        app.close()


def test_a_graph_mailbox_keeps_mail_from_before_its_start_date_as_history_and_handles_the_rest(
    setup: Any, graph_server: GraphServer, smtp: Any
) -> None:
    old = graph_server.add(USER, "inbox", make_mail(subject="Oud [label:klacht p=0.97]", body="Al lang geleden.", message_id="<oud@example.nl>"),
                           received=datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc))
    new = graph_server.add(USER, "inbox", make_mail(subject="Nieuw [label:klacht p=0.97]", body="Pas geleden.", message_id="<nieuw@example.nl>"))
    assert old and new
    setup.smtp = smtp
    setup.going_live = "start = 2026-01-01\nmax_age_days = 0"
    _configure(setup, graph_server)
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        rows = {r["message_id"]: r for r in list_messages(app.sessions)}
        register = {e["message_id"] for e in list_register(app.sessions)}
    finally:
        app.close()
    assert {mid: r["state"] for mid, r in rows.items()} == {"<oud@example.nl>": "history", "<nieuw@example.nl>": "done"}
    assert register == {"<nieuw@example.nl>"}
    about = {int(str(c.message["Message-ID"]).split(".")[2]) for c in smtp.messages}  # <kw.EFFECT.PK.DIGEST@...>
    assert about == {rows["<nieuw@example.nl>"]["id"]}, "a letter went out about the history mail"
