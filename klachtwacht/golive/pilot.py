"""The pilot report: what shadow mode would have done, and how good the suggestions were where people graded them.

:func:`load_pilot` reads the plans made in shadow mode (``messages.plan_mode``
and the outbox's ``shadow`` rows), the review load, and the secretaries'
decisions beside the model's prediction (``review_decisions``). The figures
(:func:`quality`, :func:`wilson`) are pure; :func:`as_text` writes them in
Dutch for the coordinator.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klachtwacht.db.models import Effect, Message, MessageState, ModeChange, ReviewDecision, Transition
from rules.deadlines import AMSTERDAM
from rules.golive import SHADOW, dutch_date

__all__ = ["LabelQuality", "PilotReport", "wilson", "quality", "load_pilot", "as_text", "as_json", "LABELS"]

LABELS = ("klacht", "beleidsvraag", "overig")
#: z for a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``total`` (None when ``total`` is 0)."""
    if total <= 0:
        return None
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class LabelQuality:
    """Precision and recall of one label where people decided, with 95% Wilson intervals."""

    label: str
    true_positives: int
    predicted: int  # how often the model said this label
    actual: int  # how often the person said this label
    precision: float | None
    precision_interval: tuple[float, float] | None
    recall: float | None
    recall_interval: tuple[float, float] | None


def quality(pairs: list[tuple[str, str]], labels: tuple[str, ...] = LABELS) -> list[LabelQuality]:
    """Per label, from ``(predicted, final)`` pairs."""
    out = []
    for label in labels:
        tp = sum(1 for p, f in pairs if p == label and f == label)
        predicted = sum(1 for p, _ in pairs if p == label)
        actual = sum(1 for _, f in pairs if f == label)
        out.append(
            LabelQuality(
                label, tp, predicted, actual,
                tp / predicted if predicted else None, wilson(tp, predicted),
                tp / actual if actual else None, wilson(tp, actual),
            )
        )
    return out


@dataclass(frozen=True)
class PilotReport:
    since: date | None
    first_plan: datetime | None
    last_plan: datetime | None
    messages: int  # planned in shadow mode
    by_label: dict[str, int]
    would_register: int
    letters: int  # letters to senders that would have gone out
    letters_withheld: dict[str, int]  # letters the plan already withheld, by reason
    forwards: int  # to the bezwaar or Woo team
    secretary_notices: int
    to_review: int  # messages the rules sent to a person
    waiting: int  # of those, still waiting
    graded: int  # decisions people took on these messages
    agreed: int  # ... that kept the model's label
    labels: list[LabelQuality] = field(default_factory=list)
    mode_changes: list[tuple[datetime, str, str | None, str]] = field(default_factory=list)  # at, mailbox, previous, mode


def _since_moment(since: date | None) -> datetime | None:
    return None if since is None else datetime.combine(since, time(0, 0), tzinfo=AMSTERDAM)


def load_pilot(session: Session, since: date | None = None) -> PilotReport:
    """The figures of every plan made in shadow mode (received on or after ``since``)."""
    conditions: list[Any] = [Message.plan_mode == SHADOW]
    moment = _since_moment(since)
    if moment is not None:
        conditions.append(Message.received_at >= moment)
    messages = list(session.scalars(select(Message).where(*conditions).order_by(Message.id)))
    pks = [m.id for m in messages]
    effects: list[Effect] = []
    decisions: list[ReviewDecision] = []
    reviewed: set[int] = set()
    planned_at: list[datetime] = []
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        effects += session.scalars(select(Effect).where(Effect.message_pk.in_(chunk)))
        decisions += session.scalars(
            select(ReviewDecision).where(ReviewDecision.message_pk.in_(chunk), ReviewDecision.undone_at.is_(None)).order_by(ReviewDecision.id)
        )
        reviewed |= set(session.scalars(select(Transition.message_pk).where(Transition.message_pk.in_(chunk), Transition.to_state == MessageState.REVIEW)))
        span = session.execute(
            select(func.min(Transition.at), func.max(Transition.at)).where(
                Transition.message_pk.in_(chunk), Transition.to_state.in_((MessageState.SHADOW, MessageState.REVIEW))
            )
        ).one()
        planned_at += [t for t in span if t is not None]
    shadow = [e for e in effects if e.status == "shadow"]
    kinds = Counter(e.effect for e in shadow)
    withheld = Counter(e.detail or "" for e in effects if e.effect == "notice_sender" and e.status == "skipped")
    latest: dict[int, ReviewDecision] = {}
    for decision in decisions:
        latest[decision.message_pk] = decision  # the last word on each message
    pairs = [(d.predicted_label or "overig", d.final_label) for d in latest.values()]
    changes = [(c.at, c.mailbox, c.previous, c.mode) for c in session.scalars(select(ModeChange).order_by(ModeChange.id))]
    return PilotReport(
        since=since,
        first_plan=min(planned_at) if planned_at else None,
        last_plan=max(planned_at) if planned_at else None,
        messages=len(messages),
        by_label=dict(Counter(m.label or "onbekend" for m in messages)),
        would_register=kinds.get("register", 0),
        letters=kinds.get("notice_sender", 0),
        letters_withheld=dict(withheld),
        forwards=kinds.get("forward_bezwaar", 0) + kinds.get("forward_woo", 0),
        secretary_notices=kinds.get("notice_secretary", 0),
        to_review=len(reviewed),
        waiting=sum(1 for m in messages if m.state == MessageState.REVIEW),
        graded=len(pairs),
        agreed=sum(1 for p, f in pairs if p == f),
        labels=quality(pairs),
        mode_changes=changes,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _interval(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f" (95%-interval {interval[0] * 100:.0f}–{interval[1] * 100:.0f}%)"


def as_text(report: PilotReport) -> str:
    """The report in Dutch, for the coordinator."""
    lines = ["Pilotrapport schaduwmodus"]
    if report.since is not None:
        lines.append(f"Berichten ontvangen vanaf {dutch_date(report.since, year=True)}.")
    if report.first_plan is not None and report.last_plan is not None:
        first, last = report.first_plan.astimezone(AMSTERDAM).date(), report.last_plan.astimezone(AMSTERDAM).date()
        lines.append(f"Plannen gemaakt van {dutch_date(first, year=True)} tot en met {dutch_date(last, year=True)}.")
    if not report.messages:
        lines.append("Er zijn (nog) geen berichten in schaduwmodus behandeld.")
        return "\n".join(lines) + "\n"
    labels = ", ".join(f"{report.by_label[k]} {k}" for k in sorted(report.by_label))
    lines += [
        "",
        f"{report.messages} berichten in schaduwmodus ({labels}). Er is niets geregistreerd of verstuurd.",
        "Wat klachtwacht zou hebben gedaan:",
        f"  {report.would_register} klachten geregistreerd",
        f"  {report.letters} ontvangstbevestigingen aan afzenders",
        f"  {report.forwards} berichten doorgestuurd naar het bezwaar- of Woo-team",
        f"  {report.secretary_notices} berichten aan secretariaten",
    ]
    for reason, n in sorted(report.letters_withheld.items()):
        lines.append(f"  {n} keer geen brief: {reason}")
    lines += ["", f"Beoordelingslast: {report.to_review} berichten voor een secretaris, waarvan {report.waiting} nog wachten."]
    if not report.graded:
        lines.append("Nog geen beoordelingen: precisie en recall volgen zodra secretarissen voorstellen beoordelen in de beoordelingsapp.")
    else:
        lines.append(f"Beoordeeld door mensen: {report.graded} berichten; {report.agreed} keer hetzelfde label als klachtwacht.")
        lines.append("Per label (gemeten waar mensen beslisten):")
        for q in report.labels:
            lines.append(
                f"  {q.label}: precisie {_pct(q.precision)}{_interval(q.precision_interval)} over {q.predicted} voorspeld; "
                f"recall {_pct(q.recall)}{_interval(q.recall_interval)} over {q.actual} werkelijk"
            )
    if report.mode_changes:
        lines += ["", "Modi per mailbox:"]
        for at, mailbox, previous, mode in report.mode_changes:
            was = f" (was {previous})" if previous else ""
            lines.append(f"  {dutch_date(at.astimezone(AMSTERDAM).date(), year=True)}: {mailbox} {mode}{was}")
    return "\n".join(lines) + "\n"


def as_json(report: PilotReport) -> dict[str, Any]:
    """The report as plain JSON values."""
    data = asdict(report)
    data["since"] = report.since.isoformat() if report.since else None
    data["first_plan"] = report.first_plan.isoformat() if report.first_plan else None
    data["last_plan"] = report.last_plan.isoformat() if report.last_plan else None
    data["mode_changes"] = [{"at": at.isoformat(), "mailbox": m, "previous": p, "mode": mode} for at, m, p, mode in report.mode_changes]
    return data
