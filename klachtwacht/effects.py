"""The outbox: one row per (message, effect, recipient), written as a plan and worked off by performers.

The decide step writes the plan's effects as ``planned`` rows (or
``skipped`` with the reason there will be none) in the same transaction as
the state change. A planned row can be ``cancelled`` until a performer
claims it. A performer claims a row as ``started`` before it acts and ends it
``done`` or ``rejected`` after (see :mod:`klachtwacht.perform`); a row found
``started`` again is in doubt, and its performer looks in the outside world
before it acts again. A crash at any point, followed by a restart, ends in the
same state as no crash.

Going live adds two statuses that no performer takes: ``shadow`` (the plan
was made in shadow mode; the row records what would have been done and is
never carried out, whatever the mode becomes later) and ``held`` (it waits
for a person: a reviewer's new plan turns it ``planned``, or cancels it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from klachtwacht.db.models import Effect, NoticeQuota, utcnow
from klachtwacht.intake import insert_ignore
from rules.plan import PlannedEffect

__all__ = [
    "write_plan", "replan", "cancel", "pending", "effects_of", "take_quota", "payload_of",
    "PLANNED", "STARTED", "DONE", "SKIPPED", "REJECTED", "CANCELLED", "SHADOW", "HELD", "OPEN",
]

PLANNED, STARTED, DONE, SKIPPED, REJECTED, CANCELLED = "planned", "started", "done", "skipped", "rejected", "cancelled"
SHADOW, HELD = "shadow", "held"
#: Rows a performer still has to work off.
OPEN = (PLANNED, STARTED)


def payload_of(effect: PlannedEffect, mode: str = "auto") -> dict[str, Any]:
    """What the performer needs besides (message, effect, recipient), and the mode the plan was made under."""
    return {
        "phase": effect.phase, "organisation": effect.organisation, "template": effect.template,
        "mailbox": effect.mailbox, "backend": effect.backend, "route": effect.route, "mode": mode,
    }


#: What a shadow row says instead of being carried out.
WOULD_HAVE = "schaduwmodus: zou zijn uitgevoerd, niet gedaan"


def _status(effect: PlannedEffect, shadow: bool) -> tuple[str, str | None]:
    if effect.skip is not None:
        return SKIPPED, effect.skip
    if shadow:
        return SHADOW, WOULD_HAVE
    if effect.hold is not None:
        return HELD, effect.hold
    return PLANNED, None


def write_plan(session: Session, message_pk: int, effects: Iterable[PlannedEffect], *, mode: str = "auto") -> None:
    """Add the plan's effects to the outbox inside the caller's transaction; rows that exist stay as they are.

    In ``shadow`` mode every effect that would be carried out is written as
    a ``shadow`` row; an effect that waits for a person as ``held``.
    """
    now = utcnow()
    for effect in effects:
        kind, recipient = effect.key
        status, detail = _status(effect, mode == "shadow")
        values: dict[str, object] = {
            "message_pk": message_pk, "effect": kind, "recipient": recipient[:320], "attempts": 0, "started_at": now,
            "status": status, "detail": detail, "payload": payload_of(effect, mode),
        }
        if status in (SKIPPED, SHADOW):
            values["done_at"] = now
        insert_ignore(session, Effect, values, ["message_pk", "effect", "recipient"])


def replan(session: Session, message_pk: int, effects: Sequence[PlannedEffect], *, mode: str = "auto") -> list[int]:
    """Make the outbox follow a new plan (a reviewer's decision): cancel planned rows it drops, add the new ones.

    Rows already performed, started, skipped or recorded in shadow mode stay:
    what happened in the outside world is not undone, and what shadow mode
    would have done is never done later. A held row the new plan keeps
    becomes ``planned``. Returns the cancelled rows.
    """
    wanted = {effect.key: effect for effect in effects}
    rows = effects_of(session, message_pk)
    dropped = [row.id for row in rows if row.status in (PLANNED, HELD) and (row.effect, row.recipient) not in wanted]
    for effect_id in dropped:
        cancel(session, effect_id, "vervallen door een nieuw besluit")
    for row in rows:
        kept = wanted.get((row.effect, row.recipient))
        if row.status == HELD and kept is not None:
            status, detail = _status(kept, mode == "shadow")
            row.status, row.detail = status, detail
            if status in (SKIPPED, SHADOW):
                row.done_at = utcnow()
    write_plan(session, message_pk, effects, mode=mode)
    return dropped


def cancel(session: Session, effect_id: int, reason: str = "geannuleerd") -> bool:
    """Cancel a planned (or held) effect; False when it was already claimed or done."""
    result = session.execute(
        update(Effect)
        .where(Effect.id == effect_id, Effect.status.in_((PLANNED, HELD)))
        .values(status=CANCELLED, detail=reason[:2000], done_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def pending(session: Session, message_pk: int, phase: int) -> list[Effect]:
    """The rows of ``phase`` still to be worked off, in plan order."""
    rows = session.scalars(select(Effect).where(Effect.message_pk == message_pk, Effect.status.in_(OPEN)).order_by(Effect.id))
    return [row for row in rows if (row.payload or {}).get("phase") == phase]


def effects_of(session: Session, message_pk: int) -> list[Effect]:
    """The outbox rows of one message, in plan order."""
    return list(session.scalars(select(Effect).where(Effect.message_pk == message_pk).order_by(Effect.id)))


def take_quota(session: Session, recipient: str, day: date, limit: int) -> bool:
    """Count one more letter to ``recipient`` on ``day`` inside the caller's transaction; False when ``limit`` was reached.

    Atomic on SQLite and PostgreSQL alike (a conditional UPDATE), so two
    workers cannot both take the last place.
    """
    insert_ignore(session, NoticeQuota, {"recipient": recipient, "day": day, "count": 0}, ["recipient", "day"])
    taken = session.execute(
        update(NoticeQuota)
        .where(NoticeQuota.recipient == recipient, NoticeQuota.day == day, NoticeQuota.count < limit)
        .values(count=NoticeQuota.count + 1)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]
