"""The coordinator's figures: per mailbox and ISO week, counts by label, the backlog and how often a suggestion was corrected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klachtwacht.db.models import Message, MessageState, ReviewDecision, Sighting
from rules.deadlines import AMSTERDAM

__all__ = ["LABELS", "WeekRow", "MailboxFigures", "Figures", "figures", "iso_week"]

LABELS = ("klacht", "beleidsvraag", "overig")


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.astimezone(AMSTERDAM).date().isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeekRow:
    week: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS + ("onbekend",), 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class MailboxFigures:
    mailbox: str
    weeks: list[WeekRow]
    backlog: int = 0
    oldest: datetime | None = None
    reviewed: int = 0
    corrected: int = 0

    @property
    def corrected_share(self) -> float | None:
        return self.corrected / self.reviewed if self.reviewed else None


@dataclass
class Figures:
    weeks: list[str]
    mailboxes: list[MailboxFigures]
    totals: list[WeekRow]


def _weeks(today: date, count: int) -> list[str]:
    monday = today - timedelta(days=today.weekday())
    out = []
    for i in range(count - 1, -1, -1):
        year, week, _ = (monday - timedelta(weeks=i)).isocalendar()
        out.append(f"{year}-W{week:02d}")
    return out


def figures(session: Session, mailboxes: tuple[str, ...], *, weeks: int = 8, now: datetime | None = None) -> Figures:
    """The last ``weeks`` ISO weeks of ``mailboxes`` (a message seen in two mailboxes counts in both)."""
    now = now or datetime.now(AMSTERDAM)
    names = _weeks(now.astimezone(AMSTERDAM).date(), weeks)
    start = datetime.strptime(f"{names[0]}-1", "%G-W%V-%u").replace(tzinfo=AMSTERDAM)
    per = {m: MailboxFigures(m, [WeekRow(w) for w in names]) for m in mailboxes}
    totals = [WeekRow(w) for w in names]
    index = {w: i for i, w in enumerate(names)}
    if not mailboxes:
        return Figures(names, [], totals)
    rows = session.execute(
        select(Sighting.mailbox, Message.id, Message.received_at, Message.label)
        .join(Message, Message.id == Sighting.message_pk)
        .where(Sighting.mailbox.in_(mailboxes), Message.received_at >= start)
    ).all()
    counted: set[tuple[str, int]] = set()
    in_total: set[int] = set()
    for mailbox, pk, received, label in rows:
        if (mailbox, pk) in counted:
            continue
        counted.add((mailbox, pk))
        i = index.get(iso_week(received))
        if i is None:
            continue
        key = label if label in LABELS else "onbekend"
        per[mailbox].weeks[i].counts[key] += 1
        if pk not in in_total:
            in_total.add(pk)
            totals[i].counts[key] += 1
    backlog = session.execute(
        select(Sighting.mailbox, func.count(func.distinct(Message.id)), func.min(Message.received_at))
        .join(Message, Message.id == Sighting.message_pk)
        .where(Message.state == MessageState.REVIEW, Sighting.mailbox.in_(mailboxes))
        .group_by(Sighting.mailbox)
    ).all()
    for mailbox, count, oldest in backlog:
        per[mailbox].backlog, per[mailbox].oldest = int(count), oldest
    decided = session.execute(
        select(Sighting.mailbox, ReviewDecision.id, ReviewDecision.predicted_label, ReviewDecision.final_label)
        .join(Sighting, Sighting.message_pk == ReviewDecision.message_pk)
        .where(Sighting.mailbox.in_(mailboxes), ReviewDecision.undone_at.is_(None), ReviewDecision.at >= start)
    ).all()
    seen: set[tuple[str, int]] = set()
    for mailbox, decision_id, predicted, final in decided:
        if (mailbox, decision_id) in seen:
            continue
        seen.add((mailbox, decision_id))
        per[mailbox].reviewed += 1
        per[mailbox].corrected += int(predicted != final)
    return Figures(names, list(per.values()), totals)
