"""The effect ledger: every external effect happens once per (message, effect, recipient).

A row is written as ``started`` before the call and completed after it. A
retry that finds a ``started`` row asks the outside world (``check``) whether
the earlier call got through before acting again. A crash at any point,
followed by a restart, ends in the same state as no crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.db.models import Effect, NoticeQuota, utcnow
from klachtwacht.errors import NoticeRejected
from klachtwacht.intake import insert_ignore

__all__ = ["run_effect", "skip_effect", "effects_of", "take_quota", "has_row", "DONE", "SKIPPED", "REJECTED", "STARTED"]

log = logging.getLogger(__name__)

STARTED, DONE, SKIPPED, REJECTED = "started", "done", "skipped", "rejected"


def _row(session: Session, message_pk: int, effect: str, recipient: str) -> Effect | None:
    return session.scalar(select(Effect).where(Effect.message_pk == message_pk, Effect.effect == effect, Effect.recipient == recipient))


def run_effect(
    sessions: sessionmaker[Session],
    message_pk: int,
    effect: str,
    recipient: str,
    act: Callable[[], str | None],
    check: Callable[[], str | None] | None = None,
) -> Effect:
    """Carry out ``act`` once for (message, effect, recipient); return the ledger row.

    Raises what ``act`` raises for passing failures (the row stays ``started``);
    a :class:`NoticeRejected` ends the row as ``rejected``.
    """
    with sessions.begin() as session:
        retry = _row(session, message_pk, effect, recipient) is not None
        row = _ensure_row(session, message_pk, effect, recipient, status=STARTED)
        if row.status != STARTED:
            return row
        row.attempts += 1
    if retry and check is not None:
        found = check()
        if found is not None:
            log.info("message %d: %s was already carried out before a crash; recording it", message_pk, effect)
            return _finish(sessions, message_pk, effect, recipient, DONE, "gevonden bij controle na herstart", found)
    try:
        ref = act()
    except NoticeRejected as exc:
        return _finish(sessions, message_pk, effect, recipient, REJECTED, str(exc), None)
    return _finish(sessions, message_pk, effect, recipient, DONE, None, ref)


def skip_effect(sessions: sessionmaker[Session], message_pk: int, effect: str, recipient: str, reason: str) -> Effect:
    """Record that an effect was deliberately not carried out, and why."""
    with sessions.begin() as session:
        return _ensure_row(session, message_pk, effect, recipient, status=SKIPPED, detail=reason, done_at=utcnow())


def _ensure_row(session: Session, message_pk: int, effect: str, recipient: str, **values: object) -> Effect:
    """The ledger row of (message, effect, recipient), inserted with ``values`` if there is none yet."""
    row = _row(session, message_pk, effect, recipient)
    if row is None:
        insert_ignore(
            session,
            Effect,
            {"message_pk": message_pk, "effect": effect, "recipient": recipient, "attempts": 0, "started_at": utcnow(), **values},
            ["message_pk", "effect", "recipient"],
        )
        row = _row(session, message_pk, effect, recipient)
    assert row is not None
    return row


def _finish(sessions: sessionmaker[Session], message_pk: int, effect: str, recipient: str, status: str, detail: str | None, ref: str | None) -> Effect:
    with sessions.begin() as session:
        row = _row(session, message_pk, effect, recipient)
        assert row is not None
        row.status = status
        row.detail = detail
        row.external_ref = ref
        row.done_at = utcnow()
        return row


def effects_of(session: Session, message_pk: int) -> list[Effect]:
    """The ledger rows of one message."""
    return list(session.scalars(select(Effect).where(Effect.message_pk == message_pk).order_by(Effect.id)))


def take_quota(sessions: sessionmaker[Session], recipient: str, day: date, limit: int) -> bool:
    """Count one more notice to ``recipient`` on ``day``; False when ``limit`` was reached.

    Atomic on SQLite and PostgreSQL alike (a conditional UPDATE), so two
    workers cannot both take the last place.
    """
    with sessions.begin() as session:
        insert_ignore(session, NoticeQuota, {"recipient": recipient, "day": day, "count": 0}, ["recipient", "day"])
    with sessions.begin() as session:
        taken = session.execute(
            update(NoticeQuota)
            .where(NoticeQuota.recipient == recipient, NoticeQuota.day == day, NoticeQuota.count < limit)
            .values(count=NoticeQuota.count + 1)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def has_row(session: Session, message_pk: int, effect: str, recipient: str) -> bool:
    """Whether the ledger already has a row for this effect (a retry, not a new notice)."""
    return _row(session, message_pk, effect, recipient) is not None
