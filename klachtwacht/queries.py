"""Read-only views over the database for the command line and the web app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from klachtwacht.db.models import Message

__all__ = ["list_messages", "message_row", "list_register", "waiting", "EFFECT_NAMES"]

#: What each effect of the ledger is, for an operator.
EFFECT_NAMES = {
    "register": "the register entry",
    "notice_sender": "the letter to the sender",
    "notice_secretary": "the notice to the secretary",
    "forward_bezwaar": "the forward to the bezwaar team",
    "forward_woo": "the forward to the Woo team",
}


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
        "plan_mode": message.plan_mode,
        "received_at": message.received_at.isoformat(),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "defects": list(message.defects or []) + list((message.parsed or {}).get("defects") or []),
        "state_changed_at": message.state_changed_at.isoformat(),
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


def waiting(sessions: sessionmaker[Session], rows: list[dict[str, Any]], *, stuck_after: float) -> dict[int, str]:
    """Why each message of ``rows`` that is not at rest waits, in one line, by its ``id``.

    The last error and the number of tries come from the message; the effect
    still open in the ledger (a letter, the register entry) says what waits;
    the next attempt is the worker's retry, and at the latest the sweeper's,
    ``stuck_after`` seconds after the message last moved.
    """
    from datetime import datetime, timedelta

    from klachtwacht.db.models import FINAL_STATES, Effect, utcnow
    from klachtwacht.effects import OPEN

    pending = [row for row in rows if row["state"] not in FINAL_STATES]
    if not pending:
        return {}
    open_effects: dict[int, list[tuple[str, int]]] = {}
    with sessions() as session:
        found = session.execute(
            select(Effect.message_pk, Effect.effect, Effect.attempts).where(
                Effect.message_pk.in_([row["id"] for row in pending]), Effect.status.in_(OPEN)
            ).order_by(Effect.id)
        )
        for pk, effect, attempts in found:
            open_effects.setdefault(pk, []).append((effect, attempts))
    now = utcnow()
    out = {}
    for row in pending:
        parts = []
        effects = open_effects.get(row["id"], [])
        if effects:
            parts.append("waits for " + ", ".join(EFFECT_NAMES.get(e, e) + (f" ({n} tries)" if n else "") for e, n in effects))
        if row["attempts"]:
            parts.append(f"{row['attempts']} failed attempts, last error: {(row['last_error'] or '-')[:160]}")
        if not parts:
            parts.append("in progress")
        latest = datetime.fromisoformat(row["state_changed_at"]) + timedelta(seconds=stuck_after)
        if latest > now:
            parts.append(f"next attempt by {latest.astimezone().strftime('%H:%M')} at the latest")
        else:
            parts.append("next attempt at the next sweep (each minute while klachtwacht run or schedule runs)")
        out[row["id"]] = "; ".join(parts)
    return out
