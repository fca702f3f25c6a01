"""Read-only views over the database for the command line and the web app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from klachtwacht.db.models import Message

__all__ = ["list_messages", "message_row"]


def message_row(message: Message) -> dict[str, Any]:
    """The contract's JSON object for one message (no body, no addresses)."""
    mailboxes: list[str] = []
    for sighting in message.sightings:
        if sighting.mailbox not in mailboxes:
            mailboxes.append(sighting.mailbox)
    return {
        "message_id": message.message_id,
        "mailboxes": mailboxes,
        "state": message.state,
        "label": message.label,
        "subtype": message.subtype,
        "confidence": None if message.confidence is None else round(message.confidence, 4),
        "decided_by": message.decided_by,
        "decision": message.decision,
        "received_at": message.received_at.isoformat(),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "id": message.id,
    }


def list_messages(sessions: sessionmaker[Session], *, state: str | None = None) -> list[dict[str, Any]]:
    """Every message (or those in ``state``), oldest first."""
    with sessions() as session:
        query = select(Message).options(selectinload(Message.sightings)).order_by(Message.id)
        if state:
            query = query.where(Message.state == state)
        return [message_row(m) for m in session.scalars(query)]
