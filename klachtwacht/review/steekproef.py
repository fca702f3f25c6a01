"""The steekproef: a seeded random sample of the model's automatic decisions, per organisation and ISO week.

Only what the model decided on its own is drawn (``Message.decided_by ==
"model"`` and a decision other than review: ``klachtwacht.flow`` sets
``decided_by`` from :class:`rules.Decision.by`, which is ``rule`` for the
rules' own verdicts and ``reviewer`` once a person decided). A message is
drawn at most once (a unique key on ``samples.message_pk``), and a message a
person already decided is never drawn. ``draw`` tops a week up to ``size``:
run it again and it draws only what is missing. The coordinator's
confirmation is a ReviewDecision with source ``steekproef``; a registered
complaint corrected to "geen klacht" goes through
:func:`klachtwacht.review.decide.withdraw_in`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.config import Config
from klachtwacht.db.models import Message, RegisterEntry, ReviewDecision, Sample, Sighting, utcnow
from klachtwacht.errors import DecisionConflict, InvalidDecision, ReviewError
from klachtwacht.flow import Flow
from klachtwacht.intake import insert_ignore
from klachtwacht.review.decide import claim, record_in, withdraw_in
from klachtwacht.review.labels import check, decision_for
from rules import Action
from rules.deadlines import AMSTERDAM, local_date

__all__ = ["draw", "open_samples", "confirm_sample", "OpenSample", "iso_week", "week_bounds", "mailboxes_of"]


def iso_week(moment: datetime | date) -> str:
    """``2026-W10``: the ISO week of a date, or of an aware moment in the Netherlands."""
    day = local_date(moment) if isinstance(moment, datetime) else moment
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """The aware [start, end) of an ISO week (``2026-W10``), Monday 00:00 in the Netherlands."""
    try:
        monday = datetime.strptime(f"{week}-1", "%G-W%V-%u").date()
    except ValueError as exc:
        raise InvalidDecision(f"geen ISO-week: {week!r} (bijvoorbeeld 2026-W10)") from exc
    start = datetime.combine(monday, time(0), tzinfo=AMSTERDAM)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=AMSTERDAM)
    return start, end


def mailboxes_of(config: Config, organisation: str) -> tuple[str, ...]:
    """The names of the mailboxes of ``organisation``."""
    return tuple(m.name for m in config.mailboxes if m.organisation == organisation)


def _candidates(session: Session, mailboxes: tuple[str, ...], start: datetime, end: datetime) -> list[int]:
    seen = select(Sighting.message_pk).where(Sighting.mailbox.in_(mailboxes))
    sampled = select(Sample.message_pk)
    decided = select(ReviewDecision.message_pk).where(ReviewDecision.undone_at.is_(None))
    query = (
        select(Message.id)
        .where(
            Message.decided_by == "model", Message.decision.is_not(None), Message.decision != Action.REVIEW,
            Message.received_at >= start, Message.received_at < end, Message.purged_at.is_(None),
            Message.id.in_(seen), Message.id.not_in(sampled), Message.id.not_in(decided),
        )
        .order_by(Message.id)
    )
    return list(session.scalars(query))


def draw(sessions: sessionmaker[Session], *, config: Config, organisation: str, week: str, size: int | None = None, seed: int = 0) -> list[int]:
    """Draw up to ``size`` (default ``[review] steekproef_per_week``) automatic decisions of ``week``; returns the new Sample ids.

    The draw is seeded by ``seed``, organisation and week, so the same
    database and arguments give the same sample.
    """
    size = config.review.steekproef_per_week if size is None else size
    start, end = week_bounds(week)
    mailboxes = mailboxes_of(config, organisation)
    if not mailboxes and organisation == "default" and not config.organisations:
        mailboxes = tuple(m.name for m in config.mailboxes)
    with sessions.begin() as session:
        already = session.scalar(select(func.count()).select_from(Sample).where(Sample.organisation == organisation, Sample.week == week)) or 0
        wanted = max(0, size - already)
        pool = _candidates(session, mailboxes, start, end) if wanted else []
        chosen = sorted(random.Random(f"{seed}|{organisation}|{week}").sample(pool, min(wanted, len(pool))))
        now = utcnow()
        for pk in chosen:
            insert_ignore(session, Sample, {"message_pk": pk, "organisation": organisation, "week": week, "drawn_at": now}, ["message_pk"])
        if not chosen:
            return []
        return list(session.scalars(select(Sample.id).where(Sample.message_pk.in_(chosen), Sample.week == week).order_by(Sample.id)))


@dataclass(frozen=True)
class OpenSample:
    """A drawn automatic decision still to be confirmed, with what the model did."""

    sample_id: int
    message_pk: int
    organisation: str
    week: str
    received_at: datetime
    subject: str | None
    label: str | None
    subtype: str | None
    confidence: float | None
    decision: str | None
    register_number: str | None


def open_samples(sessions: sessionmaker[Session], *, organisation: str | None = None, week: str | None = None) -> list[OpenSample]:
    """The samples still to be confirmed, oldest message first."""
    query = (
        select(Sample, Message, RegisterEntry.number)
        .join(Message, Message.id == Sample.message_pk)
        .outerjoin(RegisterEntry, RegisterEntry.message_pk == Sample.message_pk)
        .where(Sample.decision_id.is_(None))
        .order_by(Message.received_at, Sample.id)
    )
    if organisation is not None:
        query = query.where(Sample.organisation == organisation)
    if week is not None:
        query = query.where(Sample.week == week)
    with sessions() as session:
        return [
            OpenSample(s.id, m.id, s.organisation, s.week, m.received_at, m.subject, m.label, m.subtype, m.confidence, m.decision, number)
            for s, m, number in session.execute(query)
        ]


def confirm_sample(
    sessions: sessionmaker[Session],
    flow: Flow,
    sample_id: int,
    *,
    label: str,
    subtype: str | None = None,
    reason: str | None = None,
    actor: str,
    answerer: str | None = None,
) -> int:
    """The coordinator's verdict on a sampled decision; returns the ReviewDecision's id (source ``steekproef``).

    When the verdict leads to what the model already did, only the verdict
    is recorded. A registered complaint judged not a complaint is withdrawn
    (its entry kept as ``withdrawn``); any other different verdict is carried
    out as a reviewer's decision (a missed complaint is registered now).
    :class:`DecisionConflict` when the sample was confirmed already.
    """
    label, subtype, answerer = check(label, subtype, answerer)
    reason = (reason or "").strip() or None
    with sessions.begin() as session:
        sample = session.get(Sample, sample_id)
        if sample is None:
            raise ReviewError(f"steekproef {sample_id} bestaat niet")
        if sample.decision_id is not None:
            raise DecisionConflict("deze steekproef is al beoordeeld; er is niets veranderd")
        message = session.get(Message, sample.message_pk)
        assert message is not None
        message = claim(session, message.id, message.state)
        wanted = decision_for(label, subtype).action
        if message.decision == Action.REGISTER and wanted != Action.REGISTER:
            decision_id = withdraw_in(
                session, message, reason=reason or "steekproef: geen klacht", actor=actor, label=label, subtype=subtype, source="steekproef", answerer=answerer,
            )
        else:
            decision_id = record_in(
                session, flow, message, label=label, subtype=subtype, reason=reason, answerer=answerer, actor=actor, source="steekproef", apply=wanted != message.decision,
            )
        taken = session.execute(
            update(Sample).where(Sample.id == sample_id, Sample.decision_id.is_(None)).values(decision_id=decision_id).execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise DecisionConflict("deze steekproef is intussen al beoordeeld; er is niets veranderd")
        return decision_id
