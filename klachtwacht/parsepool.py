"""Parsing (and classifying) a freshly stored batch at once, on every core.

The poller has the raw bytes of a batch in memory right after committing
them; parsing them there, in a pool of processes, spares each message a trip
through the queue and a database round trip, and uses both cores of a small
server. Given the model's folder, each process also classifies what it
parsed (the model is pure work on the parsed record, and the heaviest step
of all), so the worker's process is left with the database and the outside
calls. It is only a fast path: anything it does not finish (a crash, a pool
that broke on a pathological message, a model that failed) stays ``fetched``
or ``parsed`` and the worker does it as usual.

The pool's processes end with the process that started them, even when it
is killed with ``kill -9``: on Linux each asks the kernel for SIGKILL when
its parent goes (``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog
thread in each child ends it once its parent process is gone. The kernel
ties that signal to the *thread* that started a child, so the processes are
started from a keeper thread that lives as long as the pool, never from a
watcher or worker thread that may end before it.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from classifiers.records import Classification
from ingest.records import ParsedMessage
from klachtwacht.pipeline import parse_outcome

__all__ = ["ParsePool", "Pooled", "MIN_POOL_BATCH"]

log = logging.getLogger(__name__)

#: Smaller batches are parsed in this process: starting work elsewhere costs more than it saves.
MIN_POOL_BATCH = 16
#: Seconds between a child's looks at whether its parent still runs.
WATCHDOG_EVERY = 0.5
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """In a child process: end this process when ``parent_pid`` ends, by ``kill -9`` too.

    Linux delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); a
    daemon thread checks the parent id as well, for other systems and for the
    moment before the request took effect.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog alone
            pass
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCHDOG_EVERY)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _started() -> int:
    return os.getpid()


@dataclass(frozen=True)
class Pooled:
    """One message out of the pool: the parsed record (or why it cannot be parsed), and its classification when made."""

    outcome: ParsedMessage | str
    classification: Classification | None = None
    #: The model's time for this message (its batch's mean), for the metrics.
    seconds: float = 0.0


@lru_cache(maxsize=1)
def _classifier(model: str) -> Any:
    """In a pool process: the model in the folder ``model``, loaded on its first batch and kept."""
    from classifiers.classifier import Classifier

    return Classifier.load(model)


def _work(raws: list[bytes], model: str | None) -> list[Pooled]:
    """In a pool process: parse ``raws``, and classify what parsed with the model in ``model`` (a folder), in one model pass."""
    outcomes = [parse_outcome(raw) for raw in raws]
    parsed = [o for o in outcomes if not isinstance(o, str)]
    if model is None or not parsed:
        return [Pooled(o) for o in outcomes]
    try:
        classifier = _classifier(model)
        started = time.perf_counter()
        found = iter(classifier.classify_parsed_many(parsed))
        each = (time.perf_counter() - started) / len(parsed)
    except Exception:  # left to the worker, which tells what went wrong with which message
        return [Pooled(o) for o in outcomes]
    return [Pooled(o) if isinstance(o, str) else Pooled(o, next(found), each) for o in outcomes]


class ParsePool:
    """``processes`` helper processes (0: parse in this process); ``parse(raws)`` returns one :class:`Pooled` per message, or None when the batch is left to the workers.

    With ``model`` (the folder of the model the flow classifies with) the
    processes classify too, and take batches of any size; a batch parsed
    here, in the poller's process (one process, or without the model a batch
    too small to send off), is not classified here.
    """

    def __init__(self, processes: int, model: str | None = None) -> None:
        self.processes = processes
        self.model = model
        _POOLS.add(self)
        self._pool: ProcessPoolExecutor | None = None
        self._keeper: threading.Thread | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()

    def _start(self) -> ProcessPoolExecutor:
        """Start the processes from a keeper thread that lives as long as the pool (see the module's note)."""
        with self._lock:
            if self._pool is not None:
                return self._pool
            made: list[ProcessPoolExecutor | BaseException] = []
            ready = threading.Event()
            closing = self._closing = threading.Event()

            def keep() -> None:
                try:
                    # spawn, not fork: this process runs threads (workers, watchers)
                    pool = ProcessPoolExecutor(
                        self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent, initargs=(os.getpid(),)
                    )
                    # one task per process, submitted at once: each submit starts a process from this thread
                    for future in [pool.submit(_started) for _ in range(self.processes)]:
                        future.result()
                    made.append(pool)
                except BaseException as exc:
                    made.append(exc)
                finally:
                    ready.set()
                closing.wait()

            self._keeper = threading.Thread(target=keep, name="parse-pool-keeper", daemon=True)
            self._keeper.start()
            ready.wait()
            if isinstance(made[0], BaseException):
                closing.set()
                raise made[0]
            self._pool = made[0]
            return self._pool

    def pids(self) -> list[int]:
        """The ids of the pool's processes (empty before the first pooled batch)."""
        pool = self._pool
        return sorted(pool._processes) if pool is not None else []  # noqa: SLF001

    def parse(self, raws: list[bytes]) -> list[Pooled] | None:
        # with the model, any batch goes to the pool: classifying costs far more than sending it there
        if self.processes < 1 or (self.model is None and len(raws) < MIN_POOL_BATCH):
            return [Pooled(parse_outcome(raw)) for raw in raws]
        try:
            pool = self._start()
            size = -(-len(raws) // self.processes)  # a chunk a process: one model pass each
            chunks = [raws[i : i + size] for i in range(0, len(raws), size)]
            return [pooled for done in pool.map(partial(_work, model=self.model), chunks) for pooled in done]
        except Exception as exc:  # a broken pool (a worker died on some message): the workers parse them
            log.error("parse pool failed (%s); leaving %d messages to the workers", type(exc).__name__, len(raws))
            self.close()
            return None

    def close(self) -> None:
        """Stop the helpers at once: they hold nothing that is not in the database (what they did not finish, the workers do)."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._closing.set()
        if pool is not None:
            processes = list(pool._processes.values())  # noqa: SLF001
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                # a helper can wait for ever on the task queue's lock when another one died holding it;
                # the interpreter's exit would then wait for it too
                process.terminate()

    def __getstate__(self) -> Any:  # never sent to another process
        raise TypeError("ParsePool cannot be pickled")


#: Every pool of this process, so that none outlives the interpreter's exit.
_POOLS: weakref.WeakSet[ParsePool] = weakref.WeakSet()


def _close_all() -> None:
    for pool in list(_POOLS):
        pool.close()


# run at the interpreter's exit before concurrent.futures joins its pools (these hooks run last-registered first)
threading._register_atexit(_close_all)  # type: ignore[attr-defined]  # noqa: SLF001
