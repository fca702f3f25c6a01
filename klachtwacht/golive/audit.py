"""The audit of the past: which complaints reached the mailboxes since a date and are not in the register?

:func:`load_complaints` reads every stored message received since the date
(history included) with its classification; mail never stored can be read
from the server too (:func:`fetch_unstored`, read-only: EXAMINE, UID SEARCH
SINCE, BODY.PEEK) and is classified in memory, never stored. :func:`audit`
matches the complaints against the built-in register (its entries) or a CSV
export (:mod:`klachtwacht.golive.match`). Nothing is sent to anyone.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ingest.records import ParsedMessage, parsed_from_dict
from klachtwacht.db.models import Message, RegisterEntry
from klachtwacht.golive.export import ExportRow
from klachtwacht.golive.match import Complaint, Match, match_complaints
from rules.deadlines import AMSTERDAM, local_date

__all__ = ["AuditMessage", "AuditResult", "load_complaints", "audit", "month_counts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditMessage:
    """One message of the audit: where and when it came, what it is, and where it is registered."""

    key: int  # the message's number; negative: read from the server only, not stored
    mailboxes: tuple[str, ...]
    received: date
    sender_address: str | None
    sender_name: str | None
    subject: str
    label: str | None
    confidence: float | None
    state: str  # the stored state, or "niet opgeslagen"
    number: str | None = None  # its entry in the built-in register


@dataclass
class AuditResult:
    since: date
    source: str  # "het eigen register van klachtwacht" or the export's file name
    messages: list[AuditMessage]
    matched: list[tuple[AuditMessage, str, tuple[str, ...]]] = field(default_factory=list)  # message, register reference, evidence
    missing: list[AuditMessage] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # mailboxes or folders that could not be read from the server

    @property
    def complaints(self) -> list[AuditMessage]:
        return [m for m in self.messages if m.label == "klacht"]


def _since_moment(since: date) -> datetime:
    return datetime.combine(since, time(0, 0), tzinfo=AMSTERDAM)


def load_complaints(
    session: Session, since: date, mailboxes: Sequence[str] = (), classify: Callable[[ParsedMessage], Any] | None = None
) -> list[AuditMessage]:
    """Every stored message received since ``since`` (in ``mailboxes`` when given), oldest first.

    A message stored but not classified yet is classified in memory with ``classify`` (nothing is written).
    """
    query = (
        select(Message).options(selectinload(Message.sightings))
        .where(Message.received_at >= _since_moment(since)).order_by(Message.received_at, Message.id)
    )
    numbers = dict(session.execute(select(RegisterEntry.message_pk, RegisterEntry.number)).all())
    out = []
    for message in session.scalars(query):
        boxes = tuple(dict.fromkeys(s.mailbox for s in message.sightings))
        if mailboxes and not set(boxes) & set(mailboxes):
            continue
        parsed = parsed_from_dict(message.parsed) if message.parsed else None
        label, confidence = message.label, message.confidence
        if label is None and parsed is not None and classify is not None:
            result = classify(parsed)
            label, confidence = result.label, result.confidence
        out.append(_audit_message(message.id, boxes, message.received_at, parsed, label, confidence, message.state, numbers.get(message.id)))
    return out


def _audit_message(
    key: int, boxes: tuple[str, ...], received_at: datetime, parsed: ParsedMessage | None, label: str | None, confidence: float | None,
    state: str, number: str | None = None,
) -> AuditMessage:
    sender = parsed.sender if parsed is not None else None
    return AuditMessage(
        key=key, mailboxes=boxes, received=local_date(received_at),
        sender_address=sender.address.lower() if sender is not None and sender.address else None,
        sender_name=sender.name if sender is not None and sender.name else None,
        subject=parsed.subject if parsed is not None else "", label=label, confidence=confidence, state=state, number=number,
    )


def fetch_unstored(config: Any, since: date, mailboxes: Sequence[str], session: Session, classify: Callable[[ParsedMessage], Any]) -> tuple[list[AuditMessage], list[str]]:
    """Mail on the servers since ``since`` that klachtwacht never stored, read-only and classified in memory.

    Returns the messages and the places that could not be read (named in
    the report; the audit goes on without them).
    """
    from ingest.imap import ImapConnection
    from ingest.parse import parse_message
    from klachtwacht.db.models import Sighting
    from klachtwacht.errors import KlachtwachtError

    out: list[AuditMessage] = []
    unread: list[str] = []
    key = -1
    for mailbox in config.mailboxes:
        if mailboxes and mailbox.name not in mailboxes:
            continue
        try:
            with ImapConnection(mailbox.imap) as conn:
                for folder in mailbox.folders:
                    status = conn.examine(folder)
                    known = set(session.scalars(select(Sighting.uid).where(
                        Sighting.mailbox == mailbox.name, Sighting.folder == folder, Sighting.uidvalidity == status.uidvalidity)))
                    missing = [uid for uid in conn.uids_since(since) if uid not in known]
                    for start in range(0, len(missing), 50):
                        for fetched in conn.fetch(missing[start : start + 50]):
                            try:
                                parsed = parse_message(fetched.raw)
                            except KlachtwachtError:
                                continue
                            result = classify(parsed)
                            out.append(_audit_message(key, (mailbox.name,), fetched.internaldate, parsed, result.label, result.confidence, "niet opgeslagen"))
                            key -= 1
        except KlachtwachtError as exc:
            log.warning("audit: mailbox %s could not be read: %s", mailbox.name, exc)
            unread.append(f"{mailbox.name}: {exc}")
    return out, unread


def audit(messages: list[AuditMessage], since: date, export: Sequence[ExportRow] | None = None, source: str = "", window_days: int = 14) -> AuditResult:
    """Match the complaints among ``messages`` to the built-in register, and to ``export`` when given.

    A complaint klachtwacht registered itself is matched by its entry; the
    others are looked for in the export.
    """
    result = AuditResult(since=since, source=source or "het register van klachtwacht", messages=messages)
    complaints = []
    for m in result.complaints:
        if m.number is not None:
            result.matched.append((m, m.number, (f"door klachtwacht geregistreerd als {m.number}",)))
        elif export is None:
            result.missing.append(m)
        else:
            complaints.append(m)
    if export is None:
        return result
    wanted = [Complaint(m.key, m.received, m.sender_address, m.sender_name, m.subject) for m in complaints]
    matches: dict[int, Match] = {match.complaint: match for match in match_complaints(wanted, export, window_days=window_days)}
    for m in complaints:
        found = matches.get(m.key)
        if found is None:
            result.missing.append(m)
        else:
            reference = found.row.number or f"regel {found.row.line}"
            result.matched.append((m, reference, found.evidence))
    result.matched.sort(key=lambda item: (item[0].received, item[0].key))
    return result


def month_counts(result: AuditResult) -> list[tuple[str, int, int, int, int]]:
    """Per month (``YYYY-MM``): messages, complaints, in the register, not in the register."""
    messages = Counter(m.received.strftime("%Y-%m") for m in result.messages)
    complaints = Counter(m.received.strftime("%Y-%m") for m in result.complaints)
    matched = Counter(m.received.strftime("%Y-%m") for m, _, _ in result.matched)
    missing = Counter(m.received.strftime("%Y-%m") for m in result.missing)
    return [(month, messages[month], complaints[month], matched[month], missing[month]) for month in sorted(messages)]
