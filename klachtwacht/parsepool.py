"""Parsing a freshly stored batch at once, on every core.

The poller has the raw bytes of a batch in memory right after committing
them; parsing them there, in a pool of processes, spares each message a trip
through the queue and a database round trip, and uses both cores of a small
server. It is only a fast path: anything it does not finish (a crash, a pool
that broke on a pathological message) stays ``fetched`` and is parsed by the
worker as usual.

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
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ingest.records import ParsedMessage
from klachtwacht.pipeline import parse_outcome

__all__ = ["ParsePool", "MIN_POOL_BATCH"]

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


class ParsePool:
    """``parse(raws)`` returns one outcome per message, or None when the batch is left to the workers."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
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

    def parse(self, raws: list[bytes]) -> list[ParsedMessage | str] | None:
        if self.processes <= 1 or len(raws) < MIN_POOL_BATCH:
            return [parse_outcome(raw) for raw in raws]
        try:
            pool = self._start()
            chunk = max(1, len(raws) // (self.processes * 2))
            return list(pool.map(parse_outcome, raws, chunksize=chunk))
        except Exception as exc:  # a broken pool (a worker died on some message): the workers parse them
            log.error("parse pool failed (%s); leaving %d messages to the workers", type(exc).__name__, len(raws))
            self.close()
            return None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._closing.set()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def __getstate__(self) -> Any:  # never sent to another process
        raise TypeError("ParsePool cannot be pickled")
