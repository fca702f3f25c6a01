"""Working off the outbox: claim a row, check before acting when in doubt, act, record.

The window of doubt is the time between the claim (committed just before the
outside call) and its record (committed just after). A row found
``started`` after that window was interrupted: its performer's ``find`` looks
in the outside world (the register, the letter archive) before anything is
done again. Where nothing can be looked in, the effect is done again and a
single warning line says so.

A claim names its holder (``host:pid:thread``). A row claimed by a process
that still runs elsewhere is left alone (retried later), unless the claim is
older than :data:`CLAIM_SECONDS`. A row claimed by this very process is in
doubt at once: one thread here works a row off at a time, so when a thread
finds a claim of its own process, that attempt ended without a record (the
database went away before the record and the release could be written).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht import lease
from klachtwacht.db.models import Effect, utcnow
from klachtwacht.effects import DONE, OPEN, PLANNED, REJECTED, SKIPPED, STARTED, pending, take_quota
from klachtwacht.errors import NoticeRejected, RetryableError
from klachtwacht.perform.base import Job, MessageView, Performer
from rules.deadlines import local_date

__all__ = ["work_off", "perform_phase", "CLAIM_SECONDS"]

log = logging.getLogger(__name__)

#: A claim older than this is in doubt even when its holder may still run (a hung host).
CLAIM_SECONDS = 300.0
_CLAIM, _DOUBT = "claim:", "doubt:"

#: The outbox rows some thread of this process is working off right now.
_IN_FLIGHT: set[int] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def _holder_gone(holder: str) -> bool:
    """True when the claim's holder cannot be working on the row any more: this process, or a dead local process.

    This process: :func:`work_off` lets one thread here at a row at a time,
    and that is the thread asking, so the claim's own attempt has ended.
    """
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claim(sessions: sessionmaker[Session], job: Job, performer: Performer) -> tuple[str, datetime | None]:
    """Claim the row; return ``(status, since)``: ``since`` is when the interrupted attempt began (None: no doubt).

    A status other than started means: nothing to do.
    """
    if performer.quota(job) is None:  # the common case, one statement: planned -> started
        with sessions.begin() as session:
            payload = {**job.payload, "attempted_at": utcnow().isoformat()}
            moved = session.execute(
                update(Effect)
                .where(Effect.id == job.effect_id, Effect.status == PLANNED)
                .values(status=STARTED, attempts=Effect.attempts + 1, detail=_CLAIM + lease.holder_id(), started_at=utcnow(), payload=payload)
            )
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                return STARTED, None
    with sessions.begin() as session:
        row = session.get(Effect, job.effect_id)
        if row is None or row.status not in OPEN:
            return (row.status if row else SKIPPED), None
        doubt = row.status == STARTED
        detail = row.detail or ""
        if doubt and detail.startswith(_CLAIM):
            holder = detail[len(_CLAIM):]
            fresh = utcnow() - row.started_at < timedelta(seconds=CLAIM_SECONDS)
            if fresh and not _holder_gone(holder):
                raise RetryableError(f"outbox row {row.id} is being performed by another worker")
        payload = dict(row.payload or {})
        quota = performer.quota(job)
        if quota is not None and not payload.get("quota_taken"):
            key, limit = quota
            if not take_quota(session, key, local_date(utcnow()), limit):
                row.status, row.detail, row.done_at = SKIPPED, f"al {limit} berichten vandaag aan deze afzender (limiet)", utcnow()
                return SKIPPED, None
            payload["quota_taken"] = True
        since = _when(payload.get("attempted_at"), row.started_at) if doubt else None
        if not doubt:
            payload["attempted_at"] = utcnow().isoformat()
        moved = session.execute(
            update(Effect)
            .where(Effect.id == row.id, Effect.status == row.status, Effect.attempts == row.attempts)
            .values(status=STARTED, attempts=row.attempts + 1, detail=_CLAIM + lease.holder_id(), started_at=utcnow(), payload=payload)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise RetryableError(f"outbox row {row.id} was claimed by another worker a moment ago")
        return STARTED, since


def _when(value: object, default: datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else default


def _attempting(sessions: sessionmaker[Session], job: Job) -> None:
    """Note that a doubtful effect is being done again now (the next doubt dates from here)."""
    with sessions.begin() as session:
        row = session.get(Effect, job.effect_id)
        if row is not None:
            row.payload = {**(row.payload or {}), "attempted_at": utcnow().isoformat()}


def _finish(sessions: sessionmaker[Session], job: Job, performer: Performer, status: str, detail: str | None, ref: str | None) -> None:
    with sessions.begin() as session:
        session.execute(update(Effect).where(Effect.id == job.effect_id).values(status=status, detail=detail, external_ref=ref, done_at=utcnow()))
        if status == DONE:
            performer.record(session, job, ref)


def _release(sessions: sessionmaker[Session], job: Job, *, doubtful: bool, error: str) -> None:
    """After a failed attempt: back to planned when nothing can have happened, else in doubt.

    Never raises: when the database is away too, the claim stays and its
    holder, gone or not, is judged on the next try.
    """
    values = {"detail": (_DOUBT + error)[:2000]} if doubtful else {"status": PLANNED, "detail": error[:2000]}
    try:
        with sessions.begin() as session:
            session.execute(update(Effect).where(Effect.id == job.effect_id, Effect.status == STARTED).values(**values))
    except Exception:
        log.warning("message %d: outbox row %d could not be released after a failed attempt", job.message.pk, job.effect_id)


def work_off(sessions: sessionmaker[Session], job: Job, performer: Performer) -> str:
    """Carry out one outbox row at most once in the outside world; return its final status.

    Raises :class:`RetryableError` when it must be tried again later (the
    row stays planned, or in doubt when the outside call may have happened).
    """
    with _IN_FLIGHT_LOCK:
        if job.effect_id in _IN_FLIGHT:  # another thread of this process is at it now
            raise RetryableError(f"outbox row {job.effect_id} is being performed by another thread")
        _IN_FLIGHT.add(job.effect_id)
    try:
        return _work_off(sessions, job, performer)
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.discard(job.effect_id)


def _work_off(sessions: sessionmaker[Session], job: Job, performer: Performer) -> str:
    status, since = _claim(sessions, job, performer)
    if status != STARTED:
        return status
    try:
        if since is not None:
            found = performer.find(job)
            if found is not None:
                log.info("message %d: %s (outbox row %d) had been carried out before the interruption; recorded", job.message.pk, job.kind, job.effect_id)
                _finish(sessions, job, performer, DONE, "gevonden bij controle na herstart", found)
                return DONE
            waited = (utcnow() - since).total_seconds()
            if waited < performer.settle_seconds:
                raise RetryableError(f"outbox row {job.effect_id}: its copy may still be on its way ({waited:.0f} s); looking again later")
            if not performer.can_find:
                log.warning("message %d: %s (outbox row %d) is done again after an interrupted attempt: nothing to check it against", job.message.pk, job.kind, job.effect_id)
            else:
                log.info("message %d: %s (outbox row %d) was not carried out before the interruption; doing it now", job.message.pk, job.kind, job.effect_id)
            _attempting(sessions, job)
        ref = performer.perform(job)
    except NoticeRejected as exc:
        _finish(sessions, job, performer, REJECTED, str(exc), None)
        return REJECTED
    except RetryableError as exc:
        _release(sessions, job, doubtful=exc.doubtful, error=str(exc))
        raise
    except BaseException as exc:  # a crash or a bug: whatever happened outside, it is in doubt now
        _release(sessions, job, doubtful=True, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(sessions, job, performer, DONE, None, ref)
    return DONE


def perform_phase(
    sessions: sessionmaker[Session], view: MessageView, phase: int, performers: Mapping[str, Performer], stop: Callable[[Job, str], bool] | None = None
) -> dict[str, str]:
    """Work off every open row of ``phase`` of one message, in plan order; return each kind's final status.

    ``stop`` sees each row's outcome and ends the phase early when it says so.
    """
    with sessions() as session:
        rows = [(row.id, row.effect, row.recipient, dict(row.payload or {})) for row in pending(session, view.pk, phase)]
    out: dict[str, str] = {}
    for effect_id, kind, recipient, payload in rows:
        job = Job(effect_id, kind, recipient, payload, view)
        out[kind] = work_off(sessions, job, performers[kind])
        if stop is not None and stop(job, out[kind]):
            break
    return out
