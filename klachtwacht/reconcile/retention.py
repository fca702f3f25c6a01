"""Retention: raw mail and text are removed when their time is up; counts, numbers and history stay.

Configured per label under ``[reconcile.retention]`` in days (for example
``overig = 365``, ``beleidsvraag = 730``, ``klacht = 1825``, the last counted
from the day the complaint was closed, as the Selectielijst gemeenten counts
from the end of the case). A label without a number is kept. Never removed:
messages that still wait for work or for a person (not done), open
complaints, the register entry and its number, the label and decision, and
the append-only history. The nightly run removes; ``--dry-run`` only lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from klachtwacht.db.models import Message, MessageState, RawBlob, RegisterEntry, utcnow
from klachtwacht.intake import compress
from klachtwacht.reconcile.findings import Finding
from rules.deadlines import local_date

__all__ = ["Candidate", "due_for_removal", "apply_retention", "RetentionResult"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the retention rule needs to know of one message."""

    id: int
    label: str | None
    state: str
    received: date
    register_status: str | None = None  # None: not a register entry
    closed: date | None = None


#: States whose messages the retention limits apply to: handled, history (before the start) and shadow (the pilot).
AT_REST = (MessageState.DONE, MessageState.HISTORY, MessageState.SHADOW)


def due_for_removal(candidates: Iterable[Candidate], days: Mapping[str, int], today: date) -> list[Candidate]:
    """The messages whose raw mail and text must go today."""
    out = []
    for c in candidates:
        keep = days.get(c.label or "")
        if keep is None or c.state not in AT_REST:
            continue
        if c.register_status is not None:
            if c.register_status == "open" or c.closed is None:
                continue  # an open complaint is never removed; a closed one counts from its closure
            start = c.closed
        else:
            start = c.received
        if start + timedelta(days=keep) <= today:
            out.append(c)
    return out


@dataclass(frozen=True)
class RetentionResult:
    removed: tuple[Candidate, ...]
    dry_run: bool

    def finding(self) -> Finding | None:
        if not self.removed:
            return None
        by_label = Counter(c.label or "onbekend" for c in self.removed)
        counts = ", ".join("%d %s" % (n, label) for label, n in sorted(by_label.items()))
        verb = "zouden worden verwijderd" if self.dry_run else "verwijderd"
        detail = ("Bewaartermijn verstreken voor %d berichten (%s): de oorspronkelijke mail en de tekst %s. "
                  "Aantallen, registernummers en de geschiedenis blijven bewaard." % (len(self.removed), counts, verb))
        return Finding("retention", "info", detail, None, tuple(c.id for c in self.removed), repaired=not self.dry_run)


def _candidates(session: Session) -> list[Candidate]:
    rows = session.execute(
        select(Message.id, Message.label, Message.state, Message.received_at, RegisterEntry.status, RegisterEntry.closed_at)
        .outerjoin(RegisterEntry, RegisterEntry.message_pk == Message.id)
        .where(Message.purged_at.is_(None), Message.state.in_(AT_REST))
    )
    return [Candidate(pk, label, state, local_date(received), status, local_date(closed) if closed else None)
            for pk, label, state, received, status, closed in rows]


def apply_retention(session: Session, days: Mapping[str, int], today: date, *, dry_run: bool, now: datetime | None = None) -> RetentionResult:
    """Find what is past retention and, unless ``dry_run``, remove it (in the caller's transaction)."""
    removed = due_for_removal(_candidates(session), days, today)
    if removed and not dry_run:
        now = now or utcnow()
        pks = [c.id for c in removed]
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            blobs = set(session.scalars(select(Message.blob_sha256).where(Message.id.in_(chunk))))
            session.execute(update(Message).where(Message.id.in_(chunk)).values(
                purged_at=now, parsed=None, subject=None, sender=None, reasons=None, classification=None))
            still_used = set(session.scalars(select(Message.blob_sha256).where(Message.blob_sha256.in_(blobs), Message.purged_at.is_(None))))
            gone = sorted(blobs - still_used)
            if gone:
                session.execute(update(RawBlob).where(RawBlob.sha256.in_(gone)).values(data=compress(b""), size=0))
    return RetentionResult(tuple(removed), dry_run)
