"""The parse pool's processes never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from support.mail import mails

from klachtwacht.parsepool import MIN_POOL_BATCH, ParsePool

ROOT = Path(__file__).resolve().parents[2]

_PARENT = """
import sys, time
from support.mail import mails
from klachtwacht.parsepool import ParsePool
pool = ParsePool(2)
outcomes = pool.parse([raw for _, raw in mails(40, seed=3)])
assert outcomes is not None and len(outcomes) == 40
print(" ".join(str(pid) for pid in pool.pids()), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_pool_processes_end_when_their_parent_is_killed_with_sigkill() -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        children = [int(pid) for pid in line.split()]
        assert len(children) == 2 and all(_alive(pid) for pid in children)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_pool_survives_the_thread_that_first_used_it_ending() -> None:
    raws = [raw for _, raw in mails(MIN_POOL_BATCH * 2, seed=4)]
    pool = ParsePool(2)
    try:
        first: list[object] = []
        user = threading.Thread(target=lambda: first.append(pool.parse(raws)))
        user.start()
        user.join(120)
        assert first and first[0] is not None
        pids = pool.pids()
        time.sleep(1.0)  # a death signal tied to the ended thread would have come by now
        assert all(_alive(pid) for pid in pids)
        again = pool.parse(raws)
        assert again is not None and len(again) == len(raws) and pool.pids() == pids
    finally:
        pool.close()


def test_a_pool_given_the_model_classifies_as_the_model_does_here() -> None:
    from classifiers.classifier import DEFAULT_MODEL_DIR, Classifier

    raws = [raw for _, raw in mails(MIN_POOL_BATCH * 2, seed=5)]
    pool = ParsePool(2, str(DEFAULT_MODEL_DIR))
    try:
        pooled = pool.parse(raws)
    finally:
        pool.close()
    assert pooled is not None and len(pooled) == len(raws)
    parsed = [p.outcome for p in pooled]
    assert all(not isinstance(o, str) for o in parsed)
    here = Classifier.load().classify_parsed_many(parsed)  # type: ignore[arg-type]
    assert [p.classification for p in pooled] == here
    assert all(p.seconds > 0 for p in pooled)


def test_a_pool_without_a_model_only_parses() -> None:
    raws = [raw for _, raw in mails(MIN_POOL_BATCH, seed=6)]
    pool = ParsePool(2)
    try:
        pooled = pool.parse(raws)
    finally:
        pool.close()
    assert pooled is not None and [p.classification for p in pooled] == [None] * len(raws)
    assert all(not isinstance(p.outcome, str) for p in pooled)
