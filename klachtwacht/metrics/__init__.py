"""Prometheus metrics: counters in the workers, gauges from the database, one exposition."""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.metrics import counters
from klachtwacht.metrics.collector import DatabaseCollector

__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY", "exposition", "counters"]


def exposition(sessions: sessionmaker[Session]) -> bytes:
    """The Prometheus text format: the database gauges, and the counters of every worker process.

    In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set) the counters are
    read from the shared folder; otherwise they are this process's own.
    """
    database = CollectorRegistry()
    database.register(DatabaseCollector(sessions))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        return generate_latest(database) + generate_latest(workers)
    return generate_latest(database) + generate_latest(REGISTRY)
