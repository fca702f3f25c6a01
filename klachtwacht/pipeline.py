"""Moving one message from state to state until it rests.

Each step reads what it needs, computes (pure functions from ``ingest``,
``classifiers`` and ``rules``), and then stores its result together with the
state change in one transaction, guarded by a compare-and-set on the state:
when two workers get the same message (at-least-once delivery), one wins and
the other finds the state moved and stops. A result's ``then`` (the decide
step's plan, written to the outbox) runs in that same transaction. The steps
that carry out effects work off the outbox (:mod:`klachtwacht.perform`), each
effect recorded in a transaction of its own around its outside call, through
``StepContext.sessions``.

A step that fails for a passing reason raises :class:`RetryableError`, and a
transient database error (connection refused or reset, serialization
failure, SQLite busy or locked) counts as one: the message stays where it
was, to be retried by the actor or re-enqueued by the sweeper. Only work that
is hopeless for the message itself parks it as ``failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ingest.parse import parse_message
from ingest.records import ParsedMessage, parsed_from_dict, parsed_to_dict
from klachtwacht.db.models import FINAL_STATES, Message, MessageState, Transition, utcnow
from klachtwacht.db.transient import is_transient
from klachtwacht.errors import DatabaseUnavailable, KlachtwachtError, ParseError, RetryableError
from klachtwacht.intake import load_raw
from klachtwacht.metrics import counters
from klachtwacht.states import record_transition

if TYPE_CHECKING:
    from klachtwacht.flow import Flow
    from klachtwacht.seams import Seams

__all__ = ["Services", "StepContext", "StepResult", "Step", "BatchStep", "BATCH_SIZE", "advance", "commit_many", "parse_outcome", "parse_result", "parse_step", "MAX_ATTEMPTS"]

log = logging.getLogger(__name__)

#: After this many failed tries of one step a message goes to ``failed``
#: (a non-retryable error sends it there at once).
MAX_ATTEMPTS = 20

S = MessageState


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step: the next state, the fields to store, why."""

    to_state: str
    values: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    #: An extra SQL condition for storing the result (besides the state being unchanged).
    guard: Any = None
    #: More writes that belong to the state change (the plan into the outbox), in its transaction.
    then: Callable[[Session], None] | None = None


@dataclass(frozen=True)
class StepContext:
    """What one step gets: a read session with the message, and the session factory for the outbox."""

    session: Session
    message: Message
    sessions: sessionmaker[Session]
    services: Services


Step = Callable[[StepContext], StepResult]
#: A step over many messages in the same state at once (one model pass, one transaction).
BatchStep = Callable[[list[StepContext]], list[StepResult]]

#: How many messages a batch step takes at once.
BATCH_SIZE = 64


@dataclass(frozen=True)
class Services:
    """The steps, built once at start-up and passed down (see :func:`klachtwacht.flow.build_services`).

    ``steps`` maps a state to the step that moves a message out of it; states
    without a step rest there. ``seams`` are the backends the steps reach
    (None for a flow without them, such as parsing alone).
    """

    steps: dict[str, Step]
    actor: str = "worker"
    #: States whose messages move in batches: the message asked for and the next ones in that state.
    batch_steps: dict[str, BatchStep] = field(default_factory=dict)
    seams: Seams | None = None
    flow: Flow | None = None  # for a person's later decision (klachtwacht.flow.decide_again)


def parse_outcome(raw: bytes) -> ParsedMessage | str:
    """The parsed record, or the reason the bytes cannot be parsed (plain values, so a process pool can return them)."""
    try:
        return parse_message(raw)
    except ParseError as exc:
        return str(exc)


def parse_result(outcome: ParsedMessage | str, message_id: str | None) -> StepResult:
    """fetched -> parsed with the record, or quarantined with the reason."""
    if isinstance(outcome, str):
        return StepResult(S.QUARANTINED, {"last_error": outcome}, reason=f"niet te lezen: {outcome}")
    return StepResult(
        S.PARSED,
        {
            "parsed": parsed_to_dict(outcome),
            "subject": outcome.subject[:2000],
            "sender": outcome.sender.address[:320] if outcome.sender else None,
            "message_id": message_id or outcome.message_id,
        },
    )


def parse_step(ctx: StepContext) -> StepResult:
    """fetched -> parsed, or quarantined with the reason when the bytes cannot be parsed."""
    return parse_result(parse_outcome(load_raw(ctx.session, ctx.message.blob_sha256)), ctx.message.message_id)


def commit_many(sessions: sessionmaker[Session], results: list[tuple[int, str, StepResult]], actor: str) -> list[int]:
    """Store many ``(message, expected state, result)`` in one transaction, each guarded as in :func:`advance`.

    Results of the same shape go to the database as one executemany (one
    round trip on PostgreSQL's pipeline); the history rows follow for exactly
    the messages that were still in their expected state. Returns those.
    """
    table = Message.__table__
    assert isinstance(table, Table)
    groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[int, StepResult]]] = {}
    stored: list[int] = []
    with sessions.begin() as session:
        for message_pk, expected, result in results:
            if result.guard is not None or result.then is not None:  # rare: these go on their own
                if _apply(session, message_pk, expected, result, actor):
                    stored.append(message_pk)
                continue
            groups.setdefault((expected, result.to_state, tuple(sorted(result.values))), []).append((message_pk, result))
        for (expected, to_state, keys), items in groups.items():
            now = utcnow()
            stmt = (
                update(table)
                .where(table.c.id == bindparam("b_pk"), table.c.state == expected)
                .values({**{key: bindparam(f"b_{key}") for key in keys}, "state": to_state, "state_changed_at": now, "attempts": 0})
            )
            session.execute(stmt, [{"b_pk": pk, **{f"b_{k}": r.values[k] for k in keys}} for pk, r in items])
            pks = [pk for pk, _ in items]
            # the messages this statement moved: in the new state since exactly ``now``
            moved = set(session.scalars(select(table.c.id).where(table.c.id.in_(pks), table.c.state == to_state, table.c.state_changed_at == now)))
            rows = [
                {"message_pk": pk, "from_state": expected, "to_state": to_state, "at": now, "actor": actor, "reason": r.reason}
                for pk, r in items
                if pk in moved
            ]
            if rows:
                session.execute(insert(Transition), rows)
            stored.extend(pk for pk in pks if pk in moved)
    return stored


def parsed_of(message: Message) -> ParsedMessage:
    """The parsed record stored on ``message``."""
    if message.parsed is None:
        raise KlachtwachtError(f"message {message.id} has no parsed record")
    return parsed_from_dict(message.parsed)


def advance(sessions: sessionmaker[Session], services: Services, message_pk: int) -> str:
    """Run steps on ``message_pk`` until it rests; return the state it rests in.

    Raises :class:`RetryableError` when a step must be tried again later.
    """
    while True:
        state = ""
        if _advance_batch(sessions, services, message_pk):
            continue
        try:
            with sessions() as session:
                message = session.get(Message, message_pk)
                if message is None:
                    raise KlachtwachtError(f"message {message_pk} does not exist")
                state = message.state
                step = services.steps.get(state)
                if state in FINAL_STATES or step is None:
                    return state
                try:
                    result = step(StepContext(session, message, sessions, services))
                finally:
                    session.rollback()  # the step only reads here; its result is written below
            committed = _commit(sessions, message_pk, state, result, services.actor)
        except RetryableError as exc:
            _note_retry(sessions, message_pk, state, str(exc), services, give_up=not isinstance(exc, DatabaseUnavailable))
            raise
        except Exception as exc:
            if is_transient(exc):  # the database blinked: not the message's fault, never a reason to give up
                _note_retry(sessions, message_pk, state, f"database: {type(exc).__name__}", services, give_up=False)
                raise DatabaseUnavailable(f"database unavailable in step {state or 'loading'} ({type(exc).__name__})") from exc
            # a bug or bad data: never lose the message, park it
            log.exception("message %d: step %s failed", message_pk, state)
            counters.ERRORS.labels(stage=state).inc()
            _note_failure(sessions, message_pk, state, f"{type(exc).__name__}: {exc}", services, retryable=False)
            return S.FAILED
        if committed:
            counters.TRANSITIONS.labels(to_state=result.to_state).inc()
        else:
            log.info("message %d: moved on by another worker while in %s", message_pk, state)


def _advance_batch(sessions: sessionmaker[Session], services: Services, message_pk: int) -> bool:
    """Move ``message_pk`` and the next messages in its state with the state's batch step; False when there is none.

    The others are moved ahead of their own turn: when that comes, they are
    found in the next state (the guarded commit keeps two workers from both
    storing one message). Anything that goes wrong here is left to the
    one-message path, which knows how to retry or park a message.
    """
    if not services.batch_steps:
        return False
    try:
        with sessions() as session:
            state = session.scalar(select(Message.state).where(Message.id == message_pk))
            batch = services.batch_steps.get(state or "")
            if state is None or batch is None:
                return False
            messages = list(
                session.scalars(
                    select(Message).options(selectinload(Message.sightings))
                    .where(Message.state == state, Message.id >= message_pk).order_by(Message.id).limit(BATCH_SIZE)
                )
            )
            pks = [m.id for m in messages]  # read before the rollback below expires them
            try:
                results = batch([StepContext(session, m, sessions, services) for m in messages])
            finally:
                session.rollback()
        stored = set(commit_many(sessions, [(pk, state, r) for pk, r in zip(pks, results)], services.actor))
        for pk, r in zip(pks, results):
            if pk in stored:
                counters.TRANSITIONS.labels(to_state=r.to_state).inc()
    except Exception as exc:
        # a database away is told by the one-message path that follows, with its retry
        (log.debug if is_transient(exc) else log.info)(
            "message %d: batch step failed (%s); going on one message at a time", message_pk, type(exc).__name__)
        return False
    return True


def _commit(sessions: sessionmaker[Session], message_pk: int, expected: str, result: StepResult, actor: str) -> bool:
    """Store ``result`` if the message is still in ``expected``; False when someone else moved it."""
    with sessions.begin() as session:
        stored = _apply(session, message_pk, expected, result, actor)
        if not stored:
            session.rollback()
        return stored


def _apply(session: Session, message_pk: int, expected: str, result: StepResult, actor: str) -> bool:
    """The guarded update of one message and its history row, inside the caller's transaction."""
    values = dict(result.values)
    values.update(state=result.to_state, state_changed_at=utcnow(), attempts=0)
    table = Message.__table__
    assert isinstance(table, Table)  # a mapped class's __table__ is typed as any FromClause
    condition = [table.c.id == message_pk, table.c.state == expected]
    if result.guard is not None:
        condition.append(result.guard)
    # a Core UPDATE: no ORM bookkeeping, so a batch of them stays cheap
    done = session.execute(update(table).where(*condition).values(**values))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record_transition(session, message_pk, expected, result.to_state, actor=actor, reason=result.reason)
    if result.then is not None:
        result.then(session)
    return True


def _note_retry(sessions: sessionmaker[Session], message_pk: int, state: str, error: str, services: Services, *, give_up: bool) -> None:
    """Count a passing failure, with one log line and its reason. The database may be away itself: then only log.

    With ``give_up`` the message is parked after :data:`MAX_ATTEMPTS`; a
    database outage never counts towards that.
    """
    # the caller (the actor wrapper) tells the retry with its next attempt, once
    log.debug("message %d: step %s will be retried: %s", message_pk, state or "?", error[:300])
    counters.ERRORS.labels(stage=state or "load").inc()
    if not state:
        return
    try:
        _note_failure(sessions, message_pk, state, error, services, retryable=True, give_up=give_up)
    except Exception as exc:
        if not is_transient(exc):
            raise


def _note_failure(
    sessions: sessionmaker[Session], message_pk: int, state: str, error: str, services: Services, *, retryable: bool, give_up: bool = True
) -> None:
    """Count the failed try; give up (``failed``) after :data:`MAX_ATTEMPTS` or at once for a non-retryable error."""
    with sessions.begin() as session:
        message = session.get(Message, message_pk)
        if message is None or message.state != state:
            return
        message.attempts += 1
        message.last_error = error[:2000]
        if not retryable or (give_up and message.attempts >= MAX_ATTEMPTS):
            message.state = S.FAILED
            message.state_changed_at = utcnow()
            record_transition(session, message_pk, state, S.FAILED, actor=services.actor, reason=f"opgegeven in stap {state}: {error[:500]}")
