"""Work moves through dramatiq on the in-process broker, Redis and RabbitMQ; the database stays the truth."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from support.mail import mails
from support.services import require

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from klachtwacht.db.models import FINAL_STATES, Message, Transition
from klachtwacht.intake import DatabaseSink

#: Where a message rests when its work ended well; "failed" is never a successful end.
SETTLED = ("done", "review", "quarantined")

BROKERS = {
    "memory": ("memory://", None),
    "redis": ("redis://127.0.0.1:6379/15", ("127.0.0.1", 6379, "Redis")),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672/", ("127.0.0.1", 5672, "RabbitMQ")),
}


@pytest.fixture(params=list(BROKERS))
def broker_app(request: pytest.FixtureRequest, setup: Any, classifier: Any, smtp: Any) -> Any:
    url, server = BROKERS[request.param]
    if server is not None:
        require(*server)
    setup.smtp = smtp
    setup.extra = ""
    config_text = setup.toml().replace('url = "memory://"', f'url = "{url}"')
    (setup.tmp_path / "klachtwacht.toml").write_text(config_text)
    from ingest.backoff import Backoff
    from klachtwacht.config import load_config
    from klachtwacht.runtime import App
    from klachtwacht.wiring import build_services

    config = load_config(setup.tmp_path / "klachtwacht.toml")
    # a queue of its own per test, so nothing left on a shared server can interfere
    queue = f"kw-test-{uuid.uuid4().hex[:8]}"
    app = App(config, build_services(config, classifier), backoff=Backoff(base=0.05, cap=0.5), min_retry_backoff_ms=50, queue=queue)
    app.upgrade_schema()
    app.broker.flush_all()
    yield app
    app.broker.flush_all()
    app.close()


def _store(app: Any, count: int, enqueue: bool = True) -> list[int]:
    sink = DatabaseSink(app.sessions, "wethouder-devries", on_new=app.enqueue if enqueue else None)
    fetched = [
        FetchedMessage(uid=i + 1, internaldate=datetime(2026, 3, 2, 9, i, tzinfo=timezone.utc), raw=raw)
        for i, (_, raw) in enumerate(mails(count, seed=21))
    ]
    sink.store_batch("INBOX", Cursor(1, count), fetched)
    return sink.new_message_ids


def _run_until_final(app: Any, ids: list[int]) -> list[str]:
    """The messages that did not reach a final state, with their state and last error."""
    worker = app.worker(threads=2)
    worker.start()
    try:
        pending = app.wait_final(ids, timeout=90)
    finally:
        worker.stop()
    with app.sessions() as session:
        return [f"{pk}: {m.state} {m.last_error}" for pk in pending if (m := session.get(Message, pk)) is not None]


def test_messages_enqueued_on_the_broker_reach_a_final_state(broker_app: Any) -> None:
    ids = _store(broker_app, 6)
    assert _run_until_final(broker_app, ids) == []


def test_a_message_delivered_twice_is_processed_once(broker_app: Any) -> None:
    ids = _store(broker_app, 3)
    broker_app.enqueue(ids)  # every message a second time
    assert _run_until_final(broker_app, ids) == []
    with broker_app.sessions() as session:
        for pk in ids:
            states = session.scalars(select(Transition.to_state).where(Transition.message_pk == pk)).all()
            assert len(states) == len(set(states)), f"message {pk} went through a state twice: {states}"


def test_a_lost_broker_message_is_re_enqueued_by_the_sweeper(broker_app: Any) -> None:
    ids = _store(broker_app, 2, enqueue=False)  # stored, but the broker never heard of them
    worker = broker_app.worker(threads=2)
    worker.start()
    try:
        assert broker_app.wait_final(ids, timeout=1.0) == ids  # nothing happens by itself
        assert broker_app.sweep(older_than=0) == 2
        assert broker_app.wait_final(ids, timeout=90) == []
    finally:
        worker.stop()
    with broker_app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.state.in_(SETTLED))) == 2


def test_more_than_one_process_on_the_in_process_broker_is_refused_with_the_reason(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from klachtwacht.cli import main

    config = setup.write()  # broker memory://
    assert main(["--config", str(config), "ingest", "--once", "--processes", "2"]) == 2
    err = capsys.readouterr().err
    assert "broker.url" in err and "--processes 2" in err and "memory://" in err


def test_two_worker_processes_on_redis_and_postgresql_perform_each_effect_once(tmp_path: Any, dovecot: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One backlog, two processes (``ingest --once --processes 2``): every letter reaches the SMTP server exactly once."""
    import os
    import re
    import subprocess
    import sys
    from collections import Counter
    from pathlib import Path

    import redis
    from sqlalchemy import create_engine
    from support.setup import PASSWORD, Setup
    from support.setup import create_pg_database as _create_pg_database

    from klachtwacht.db.models import Effect

    require("127.0.0.1", 6379, "Redis")
    url, drop = _create_pg_database()
    try:
        for _, raw in mails(150, seed=23):
            dovecot.append("wethouder", "INBOX", raw)
        setup = Setup(tmp_path=tmp_path, db_url=url, dovecot=dovecot, smtp=smtp)
        setup.mailbox("wethouder-devries", "wethouder")
        # a Redis database of its own, so nothing another test left on the shared server interferes
        text_config = setup.toml().replace('url = "memory://"', 'url = "redis://127.0.0.1:6379/12"')
        config = tmp_path / "klachtwacht.toml"
        config.write_text(text_config)
        redis.Redis.from_url("redis://127.0.0.1:6379/12").flushdb()
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "KW_TEST_PASSWORD": PASSWORD, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "ingest", "--once", "--json", "--processes", "2"],
            env=env, capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stderr.count("klachtwacht running: worker") == 1, "the second process ran a worker"
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                states = dict(conn.execute(select(Message.state, func.count()).group_by(Message.state)).all())
                sent = conn.execute(select(Effect.message_pk, Effect.effect).where(Effect.status == "done", Effect.effect != "register")).all()
        finally:
            engine.dispose()
        assert sum(states.values()) == 150 and set(states) <= FINAL_STATES - {"failed"}, states
        received = Counter(str(m.message["Message-ID"]) for m in smtp.messages)
        assert [mid for mid, n in received.items() if n > 1] == []
        at_smtp: Counter[tuple[int, str]] = Counter()
        for mid in received:
            match = re.match(r"<kw\.([\w-]+)\.(\d+)\.", mid)
            assert match is not None, mid
            at_smtp[(int(match.group(2)), match.group(1))] += 1
        assert sent and Counter((pk, effect) for pk, effect in sent) == at_smtp
    finally:
        redis.Redis.from_url("redis://127.0.0.1:6379/12").flushdb()
        drop()
