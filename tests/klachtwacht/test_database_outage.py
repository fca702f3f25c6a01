"""The database going away: a PostgreSQL restart in the middle of a pass loses, fails and doubles nothing.

The test runs its own PostgreSQL cluster (``support.pgcluster``), so it can
stop it while ``klachtwacht run`` works through 500 messages, and start it
again 20 s later. The same mail through a pass without an outage is the
expectation: every message ends in the same state, the SMTP server receives
the same letters, each once, and the register holds the same entries.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from support.dovecot import Dovecot
from support.mail import mails, make_mail
from support.pgcluster import PgCluster
from support.smtp import ArchivingSink, SmtpSink

from klachtwacht.db.models import FINAL_STATES, Message, MessageState, RegisterEntry
from klachtwacht.runtime import run_ingest_once, run_service
from klachtwacht.transient import is_transient

pytestmark = pytest.mark.dovecot

COUNT = 500
ARCHIVE = "archief@gemeente-veenstad.nl"
OUTAGE = 20.0


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    with PgCluster() as pg:
        yield pg


def _sink(dovecot: Dovecot, name: str) -> ArchivingSink:
    """The SMTP server, with the letter archive (a folder per run) that tells a letter sent before an outage from one that was not."""
    return ArchivingSink(dovecot, "secretariaat", ARCHIVE, folder=f"Archief-{name}")


def _setup(tmp_path: Path, name: str, url: str, dovecot: Dovecot, smtp: ArchivingSink) -> Any:
    from support.setup import Setup

    folder = tmp_path / name
    folder.mkdir()
    setup = Setup(tmp_path=folder, db_url=url, dovecot=dovecot, smtp=smtp)
    setup.extra = "batch_size = 50\n" + smtp.archive_config(dovecot.port)
    setup.mailbox("wethouder-devries", "wethouder", poll_interval=300)
    return setup


def _outcome(session: Session) -> dict[str, str]:
    return {mid or "": state for mid, state in session.execute(select(Message.message_id, Message.state))}


def _final_count(engine: Any) -> int:
    """Messages at rest, or -1 while the database is away."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Message).where(Message.state.in_(FINAL_STATES))).scalar_one())
    except Exception as exc:
        if is_transient(exc):
            return -1
        raise


def _wait_final(engine: Any, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    done = _final_count(engine)
    while done < count and time.monotonic() < deadline:
        time.sleep(0.2)
        done = _final_count(engine)
    return done


_LETTER_ID = re.compile(r"<kw\.([\w-]+)\.(\d+)\.(\w+)@")


def _letters(smtp: SmtpSink, session: Session) -> Counter[tuple[str, str, str, tuple[str, ...]]]:
    """Each letter the SMTP server received, named by (effect, the original's Message-ID, recipient hash, envelope)."""
    originals = {pk: mid or "" for pk, mid in session.execute(select(Message.id, Message.message_id))}
    keys: Counter[tuple[str, str, str, tuple[str, ...]]] = Counter()
    for captured in smtp.messages:
        match = _LETTER_ID.match(str(captured.message["Message-ID"]))
        assert match is not None, captured.message["Message-ID"]
        effect, pk, digest = match.groups()
        keys[(effect, originals[int(pk)], digest, tuple(sorted(captured.rcpt_tos)))] += 1
    return keys


def test_a_postgresql_restart_mid_pass_ends_every_message_as_without_it_and_the_watcher_resumes(
    tmp_path: Path, cluster: PgCluster, dovecot: Dovecot, classifier: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KW_TEST_PASSWORD", "geheim-wachtwoord")
    dovecot.fast_fill("wethouder", "INBOX", (raw for _, raw in mails(COUNT, seed=41)))

    # the expectation: the same mail through a pass without an outage
    with _sink(dovecot, "calm") as calm_smtp:
        calm = _setup(tmp_path, "calm", cluster.create_database("calm"), dovecot, calm_smtp).app(classifier)
        try:
            summary = run_ingest_once(calm)
            assert summary["not_final"] == 0
            with calm.sessions() as session:
                expected = _outcome(session)
                expected_entries = session.scalar(select(func.count()).select_from(RegisterEntry))
                expected_letters = _letters(calm_smtp, session)
        finally:
            calm.close()
    assert len(expected) == COUNT and MessageState.FAILED not in expected.values()
    assert expected_entries and expected_letters

    with _sink(dovecot, "outage") as smtp:
        url = cluster.create_database("outage")
        app = _setup(tmp_path, "outage", url, dovecot, smtp).app(classifier)
        engine = create_engine(url, pool_pre_ping=True)
        stop = threading.Event()
        service = threading.Thread(target=run_service, args=(app, ("watch", "worker", "schedule")), kwargs={"threads": 2, "stop": stop}, daemon=True)
        try:
            service.start()
            assert _wait_final(engine, 60, timeout=180) >= 60
            cluster.stop()
            engine.dispose()
            outage_ends = time.monotonic() + OUTAGE
            # mail while the database is away: IDLE reports it, the watcher waits for the database
            for i in range(2):
                dovecot.append("wethouder", "INBOX", make_mail(subject=f"Tijdens de storing {i}", body="Een bericht.", message_id=f"<during-{i}@example.nl>"))
            time.sleep(max(0.0, outage_ends - time.monotonic()))
            cluster.start()
            at_restart = _final_count(engine)
            assert 0 <= at_restart < COUNT, "the outage must land in the middle of the pass"

            assert _wait_final(engine, COUNT + 2, timeout=400) == COUNT + 2
            # mail after the restart: IDLE brings it in (the poll interval is 300 s)
            for i in range(3):
                dovecot.append("wethouder", "INBOX", make_mail(subject=f"Na de herstart {i}", body="Nog een bericht.", message_id=f"<after-{i}@example.nl>"))
            assert _wait_final(engine, COUNT + 5, timeout=120) == COUNT + 5
        finally:
            stop.set()
            service.join(30)
            engine.dispose()

        with app.sessions() as session:
            outcome = _outcome(session)
            entries = session.scalar(select(func.count()).select_from(RegisterEntry))
            letters = _letters(smtp, session)
        app.close()
        after = {mid: outcome.pop(mid) for mid in [f"<after-{i}@example.nl>" for i in range(3)] + [f"<during-{i}@example.nl>" for i in range(2)]}
        assert MessageState.FAILED not in outcome.values() and MessageState.FAILED not in after.values()
        assert set(after.values()) <= FINAL_STATES
        assert outcome == expected
        assert entries == expected_entries
        assert [key for key, n in letters.items() if n > 1] == [], "no letter twice"
        for_the_500 = Counter({key: n for key, n in letters.items() if not key[1].startswith(("<after-", "<during-"))})
        assert for_the_500 == expected_letters
