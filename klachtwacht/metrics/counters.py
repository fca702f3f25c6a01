"""Counters the worker processes increment (Prometheus multiprocess mode when configured).

Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before the processes start
(and wipe it between runs); every process then writes its counts there and
``/metrics`` adds them up. No label ever carries a message id, a sender or a
subject: only mailbox names, states, kinds and stages.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["FETCHED", "TRANSITIONS", "NOTICES", "ERRORS", "CLASSIFY_SECONDS"]

FETCHED = Counter("klachtwacht_messages_fetched", "Messages fetched from a mailbox", ["mailbox"])
TRANSITIONS = Counter("klachtwacht_message_transitions", "State changes of messages", ["to_state"])
NOTICES = Counter("klachtwacht_notices_sent", "Letters and notices accepted by the SMTP server", ["kind"])
ERRORS = Counter("klachtwacht_errors", "Errors by stage (register, letter, poll, parse, classify)", ["stage"])
CLASSIFY_SECONDS = Histogram("klachtwacht_classify_duration_seconds", "Time to classify one message",
                             buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
