"""Read-only views over the database for the command line and the web app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from klachtwacht.db.models import Message

__all__ = ["list_messages", "message_row", "list_register"]


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
        "defects": list(message.defects or []) + list((message.parsed or {}).get("defects") or []),
        "id": message.id,
    }


def list_messages(sessions: sessionmaker[Session], *, state: str | None = None) -> list[dict[str, Any]]:
    """Every message (or those in ``state``), oldest first."""
    with sessions() as session:
        query = select(Message).options(selectinload(Message.sightings)).order_by(Message.id)
        if state:
            query = query.where(Message.state == state)
        return [message_row(m) for m in session.scalars(query)]


def list_register(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Every register entry with its message and whether the sender's notice went out."""
    from klachtwacht.db.models import Effect, RegisterEntry

    with sessions() as session:
        entries = session.scalars(select(RegisterEntry).order_by(RegisterEntry.id)).all()
        rows = []
        for entry in entries:
            message = session.get(Message, entry.message_pk, options=[selectinload(Message.sightings)])
            assert message is not None
            notice = session.scalar(
                select(Effect.status).where(Effect.message_pk == entry.message_pk, Effect.effect == "notice_sender")
            )
            row = message_row(message)
            rows.append(
                {
                    "number": entry.number,
                    "message_id": message.message_id,
                    "mailboxes": row["mailboxes"],
                    "received_at": entry.received_at.isoformat(),
                    "due": entry.due.isoformat(),
                    "refusal_due": entry.refusal_due.isoformat(),
                    "extended_due": entry.extended_due.isoformat() if entry.extended_due else None,
                    "organisation": entry.organisation,
                    "status": entry.status,
                    "backend": entry.backend,
                    "external_ref": entry.external_ref,
                    "route": entry.route,
                    "notice_sent": notice == "done",
                    "notice": notice,
                }
            )
        return rows
