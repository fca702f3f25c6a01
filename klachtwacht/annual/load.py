"""Read the year's register entries and policy questions from the database as plain rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from klachtwacht.annual.figures import ComplaintRow
from klachtwacht.config import Config
from klachtwacht.db.models import Message, RegisterEntry
from klachtwacht.reconcile.facts import first_mailboxes
from rules.deadlines import AMSTERDAM, local_date

__all__ = ["load_year"]


def load_year(session: Session, config: Config, year: int) -> tuple[list[ComplaintRow], list[int]]:
    """The complaints registered as received in ``year`` (Dutch time) and the month of each policy question."""
    start = datetime(year, 1, 1, tzinfo=AMSTERDAM) - timedelta(days=1)
    end = datetime(year + 1, 1, 1, tzinfo=AMSTERDAM) + timedelta(days=1)
    entries = list(session.execute(
        select(RegisterEntry, Message.subtype).join(Message, Message.id == RegisterEntry.message_pk)
        .where(RegisterEntry.received_at >= start, RegisterEntry.received_at < end)
    ))
    policy = list(session.execute(
        select(Message.id, Message.received_at).where(Message.decision == "policy", Message.received_at >= start, Message.received_at < end)
    ))
    boxes = first_mailboxes(session, {e.message_pk for e, _ in entries})
    roles = {m.name: m.role for m in config.mailboxes}
    rows = []
    for entry, subtype in entries:
        channel = boxes.get(entry.message_pk, "onbekend")
        rows.append(ComplaintRow(
            received=local_date(entry.received_at), due=entry.due, extended_due=entry.extended_due, status=entry.status,
            organ=roles.get(channel, "onbekend"), channel=channel, category=subtype or "onbekend",
        ))
    months = [local_date(at).month for _, at in policy if local_date(at).year == year]
    return [r for r in rows if r.received.year == year], months
