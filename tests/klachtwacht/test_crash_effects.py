"""``kill -9`` of ``klachtwacht ingest --once`` while it registers and sends letters, again and again.

Real parts: Dovecot (the mailbox and the letter archive), the SMTP server
of tests/support/smtp.py (which delivers the archive's copy into Dovecot
before it answers, as a local delivery would), the shipped model, SQLite and
PostgreSQL. Letters are counted where they arrive: at the SMTP server.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from support.dovecot import Dovecot
from support.mail import mails
from support.smtp import ArchivingSink

from klachtwacht.db.models import Effect, Message, RegisterEntry

pytestmark = pytest.mark.dovecot

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = "archief@gemeente-veenstad.nl"
PASSWORD = "geheim-wachtwoord"


def _config(setup: Any, dovecot: Dovecot, sink: ArchivingSink) -> Path:
    setup.dovecot, setup.smtp = dovecot, sink
    setup.mailbox("wethouder-devries", "wethouder", secretary="secretariaat.devries@gemeente-veenstad.nl")
    setup.extra = "\n".join([
        "parse_processes = 1",  # under [ingest]: no pool children to outlive a killed parent
        "[rules]",
        "notices_per_sender_per_day = 1000",
        sink.archive_config(dovecot.port),
    ])  # fmt: skip
    return setup.write()


def _run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KW_TEST_PASSWORD": PASSWORD}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "ingest", "--once"], env=env, stdout=out, stderr=out, cwd=ROOT)


def _effects_done(engine: Any) -> int:
    """How many effects were carried out so far (register entries and letters)."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Effect).where(Effect.status == "done")).scalar_one())
    except Exception:  # no schema yet
        return 0


def _kill_during_effects(config: Path, log: Path, engine: Any, rng: random.Random) -> str:
    """Start a pass, wait until it performs effects, kill it at a random moment; say when it died."""
    before = _effects_done(engine)
    process = _run(config, log)
    deadline = time.monotonic() + 240
    try:
        # this pass is registering and sending once it has carried out an effect of its own
        while time.monotonic() < deadline and process.poll() is None and _effects_done(engine) <= before:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if process.poll() is not None:
            return "finished before the kill"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        return "killed"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def test_kill_9_during_register_and_letters_sends_no_letter_twice_and_leaves_nothing_unfinished(setup: Any, dovecot: Dovecot, db_url: str, tmp_path: Path) -> None:
    kills = 10 if db_url.startswith("sqlite") else 3
    rng = random.Random(11)
    with ArchivingSink(dovecot, "secretariaat", ARCHIVE) as sink:
        config = _config(setup, dovecot, sink)
        log = tmp_path / "ingest.log"
        engine = create_engine(db_url)
        message_ids: set[str] = set()
        outcomes = []
        try:
            for round_ in range(kills):
                for _, raw in mails(12, seed=100 + round_, label="klacht"):
                    dovecot.append("wethouder", "INBOX", raw)
                message_ids.update(f"<test-{100 + round_}-{i}@example.nl>" for i in range(12))
                outcomes.append(_kill_during_effects(config, log, engine, rng))
            final = _run(config, log)
            assert final.wait(600) == 0, log.read_text(errors="replace")[-3000:]
            assert outcomes.count("killed") >= kills - 1, outcomes

            with engine.connect() as conn:
                stored = conn.execute(select(Message.message_id, Message.state)).all()
                entries = conn.execute(select(RegisterEntry.message_pk)).scalars().all()
                open_rows = conn.execute(select(func.count()).select_from(Effect).where(Effect.status.in_(("planned", "started")))).scalar_one()
                sent_rows = conn.execute(select(Effect.recipient, Effect.external_ref).where(Effect.status == "done", Effect.effect != "register")).all()
                registers = conn.execute(select(func.count()).select_from(Message).where(Message.decision == "register")).scalar_one()
        finally:
            engine.dispose()
        # every message stored once, nothing unfinished, nothing given up
        assert sorted(mid for mid, _ in stored) == sorted(message_ids)
        states = collections.Counter(state for _, state in stored)
        assert set(states) <= {"done", "review"}, states
        assert open_rows == 0
        # one register entry per registered complaint
        assert len(entries) == len(set(entries)) == registers and registers > 0
        # no recipient received the same letter twice, counted at the SMTP server
        received = collections.Counter(
            (rcpt.lower(), str(captured.message["Message-ID"])) for captured in sink.messages for rcpt in captured.rcpt_tos if rcpt != ARCHIVE
        )
        doubled = {key: n for key, n in received.items() if n > 1}
        assert doubled == {}
        # and every letter the outbox says was sent arrived
        assert {(rcpt, ref) for rcpt, ref in sent_rows} == set(received)
