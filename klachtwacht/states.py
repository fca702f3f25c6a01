"""State changes of a message, each with a row in the append-only history."""

from __future__ import annotations

from sqlalchemy.orm import Session

from klachtwacht.db.models import Message, Transition, utcnow

__all__ = ["record_transition", "move"]


def record_transition(session: Session, message_pk: int, from_state: str | None, to_state: str, *, actor: str, reason: str | None = None) -> None:
    """Append one history row; never updates or deletes earlier ones."""
    session.add(Transition(message_pk=message_pk, from_state=from_state, to_state=to_state, at=utcnow(), actor=actor, reason=reason))


def move(session: Session, message: Message, to_state: str, *, actor: str, reason: str | None = None) -> None:
    """Put ``message`` in ``to_state`` and record the transition."""
    from_state = message.state
    message.state = to_state
    message.state_changed_at = utcnow()
    if to_state != from_state:
        message.attempts = 0
    record_transition(session, message.id, from_state, to_state, actor=actor, reason=reason)
