"""Prometheus metrics from the database and the worker counters, in one process and in multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.metrics import REGISTRY, exposition
from klachtwacht.runtime import run_ingest_once

DONE, FETCHED, SENT = "klachtwacht_message_transitions_total", "klachtwacht_messages_fetched_total", "klachtwacht_notices_sent_total"
FORBIDDEN_LABELS = {"message_id", "sender", "subject", "address", "id"}


def _samples(text: bytes) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def _value(samples: dict[str, list[Any]], name: str, labels: dict[str, str]) -> float:
    return sum(s.value for s in samples.get(name, []) if s.labels == labels)


def test_the_database_gauges_count_states_backlog_and_open_complaints_without_personal_labels(setup: Any, dovecot: Any, smtp: Any) -> None:
    when = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    dovecot.append("wethouder", "INBOX", make_mail(subject="K [label:klacht p=0.97]", message_id="<k1@example.nl>", sender="A <a@example.nl>"), msg_time=when)
    dovecot.append("wethouder", "INBOX", make_mail(subject="Twijfel [label:klacht p=0.5]", message_id="<r1@example.nl>", sender="B <b@example.nl>"), msg_time=when)
    setup.dovecot, setup.smtp = dovecot, smtp
    setup.mailbox("wethouder-devries", "wethouder")
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        samples = _samples(exposition(app.sessions))
    finally:
        app.close()
    states = {(s.labels["state"], s.labels["mailbox"]): s.value for s in samples["klachtwacht_messages"]}
    assert states[("done", "wethouder-devries")] == 1 and states[("review", "wethouder-devries")] == 1
    assert samples["klachtwacht_review_backlog"][0].value == 1
    assert samples["klachtwacht_review_oldest_age_seconds"][0].value >= 0
    open_ = {s.labels["deadline"]: s.value for s in samples["klachtwacht_complaints_open"]}
    assert open_ == {"ok": 0, "due_7d": 0, "overdue": 1}  # due 13 April 2026, long past
    assert samples["klachtwacht_mailbox_last_poll_timestamp_seconds"][0].labels == {"mailbox": "wethouder-devries"}
    for name, rows in samples.items():
        for sample in rows:
            assert not FORBIDDEN_LABELS & set(sample.labels), (name, sample.labels)
            assert "@" not in "".join(sample.labels.values()), (name, sample.labels)


def test_counters_of_several_worker_processes_are_added_up_in_multiprocess_mode(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "prom"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": os.pathsep.join(sys.path)}
    bump = "from klachtwacht.metrics.counters import NOTICES; NOTICES.labels(kind='sender_klacht').inc(%d)"
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", bump % n], env=env, check=True, timeout=60)
    script = (
        "from klachtwacht.db import make_engine, make_sessionmaker, upgrade\n"
        "from klachtwacht.metrics import exposition\n"
        "e = make_engine(%r); upgrade(e)\n"
        "import sys; sys.stdout.buffer.write(exposition(make_sessionmaker(e)))\n" % db_url
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, timeout=120).stdout
    totals = [s for s in _samples(out)["klachtwacht_notices_sent_total"] if s.labels == {"kind": "sender_klacht"}]
    assert totals[0].value == 5


def test_the_running_service_serves_metrics_whose_counters_follow_the_work(setup: Any, dovecot: Any, smtp: Any) -> None:
    import socket
    import threading
    import time

    import httpx

    from klachtwacht.runtime import run_service

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dovecot.append("wethouder", "INBOX", make_mail(subject="K [label:klacht p=0.97]", message_id="<served@example.nl>", sender="A <a@example.nl>"))
    setup.dovecot, setup.smtp = dovecot, smtp
    setup.mailbox("wethouder-devries", "wethouder")
    setup.extra = f'[metrics]\nlisten = "127.0.0.1:{port}"\n'
    app = setup.app(HeaderLabels())
    before = {  # the counters are this process's: other tests moved them too
        name: REGISTRY.get_sample_value(name, labels) or 0.0
        for name, labels in ((DONE, {"to_state": "done"}), (FETCHED, {"mailbox": "wethouder-devries"}), (SENT, {"kind": "notice_sender"}))
    }
    stop = threading.Event()
    service = threading.Thread(target=run_service, args=(app, ("watch", "worker")), kwargs={"threads": 2, "stop": stop}, daemon=True)
    service.start()
    try:
        deadline, done = time.monotonic() + 60, 0.0
        while time.monotonic() < deadline and not done:
            time.sleep(0.5)
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            except httpx.TransportError:
                continue
            samples = _samples(reply.content)
            done = _value(samples, DONE, {"to_state": "done"}) - before[DONE]
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
        assert done == 1, "the one message's transition to done was not counted once"
        assert _value(samples, FETCHED, {"mailbox": "wethouder-devries"}) - before[FETCHED] == 1
        assert _value(samples, SENT, {"kind": "notice_sender"}) - before[SENT] == 1
        assert httpx.get(f"http://127.0.0.1:{port}/other", timeout=5).status_code == 404
    finally:
        stop.set()
        service.join(timeout=30)
        app.close()
