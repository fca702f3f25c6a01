"""Parsing a freshly stored batch at once, on every core.

The poller has the raw bytes of a batch in memory right after committing
them; parsing them there, in a pool of processes, spares each message a trip
through the queue and a database round trip, and uses both cores of a small
server. It is only a fast path: anything it does not finish (a crash, a pool
that broke on a pathological message) stays ``fetched`` and is parsed by the
worker as usual.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ingest.records import ParsedMessage
from klachtwacht.pipeline import parse_outcome

__all__ = ["ParsePool", "MIN_POOL_BATCH"]

log = logging.getLogger(__name__)

#: Smaller batches are parsed in this process: starting work elsewhere costs more than it saves.
MIN_POOL_BATCH = 16


class ParsePool:
    """``parse(raws)`` returns one outcome per message, or None when the batch is left to the workers."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def parse(self, raws: list[bytes]) -> list[ParsedMessage | str] | None:
        if self.processes <= 1 or len(raws) < MIN_POOL_BATCH:
            return [parse_outcome(raw) for raw in raws]
        try:
            if self._pool is None:
                # spawn, not fork: this process runs threads (workers, watchers)
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
            chunk = max(1, len(raws) // (self.processes * 2))
            return list(self._pool.map(parse_outcome, raws, chunksize=chunk))
        except Exception as exc:  # a broken pool (a worker died on some message): the workers parse them
            log.error("parse pool failed (%s); leaving %d messages to the workers", type(exc).__name__, len(raws))
            self.close()
            return None

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def __getstate__(self) -> Any:  # never sent to another process
        raise TypeError("ParsePool cannot be pickled")
