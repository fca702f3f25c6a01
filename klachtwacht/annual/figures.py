"""The figures of the Awb 9:12a annual overview: pure aggregation, small cells masked.

Article 9:12a Awb asks that registered complaints are published every year;
what the overview holds is not prescribed. Practice (and the research note)
asks for counts per organ, channel, category and month, the outcome, whether
the terms were met, extended or overrun, and policy questions apart.
Only aggregates leave this module, and any count from 1 to ``MASK_BELOW - 1``
is shown as "<5" so that no single complainant can be recognised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

__all__ = ["MASK_BELOW", "ComplaintRow", "AnnualFigures", "annual_figures", "masked", "ORGAN_NL", "TERM_NL"]

MASK_BELOW = 5
ORGAN_NL = {"wethouder": "wethouders", "burgemeester": "burgemeester", "raad": "gemeenteraad (griffie)", "secretariaat": "college (secretariaat)"}
TERM_NL = {
    "open_in_time": "nog in behandeling, binnen de termijn",
    "open_late": "nog in behandeling, termijn verstreken",
    "extended": "termijn verdaagd (Awb 9:11 lid 2)",
    "closed_in_time": "afgehandeld binnen de termijn",
    "closed_late": "afgehandeld na de termijn",
}
STATUS_NL = {"open": "in behandeling", "withdrawn": "ingetrokken of geen klacht", "closed": "afgehandeld"}


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    """One register entry as the overview sees it: no person, no text."""

    received: date
    due: date
    extended_due: date | None
    status: str
    organ: str  # the role of the mailbox it arrived in
    channel: str  # the mailbox name
    category: str  # the complaint's sub-type, "onbekend" when none
    closed: date | None = None


@dataclass(frozen=True)
class AnnualFigures:
    year: int
    total: int
    by_organ: dict[str, int]
    by_channel: dict[str, int]
    by_category: dict[str, int]
    by_month: dict[int, int]
    by_status: dict[str, int]
    by_term: dict[str, int]
    policy_questions_by_month: dict[int, int] = field(default_factory=dict)
    policy_questions: int = 0


def _term(row: ComplaintRow, today: date) -> str:
    limit = row.extended_due or row.due
    if row.closed is not None:
        return "closed_in_time" if row.closed <= limit else "closed_late"
    if row.extended_due is not None and today <= row.extended_due:
        return "extended"
    return "open_late" if today > limit else "open_in_time"


def annual_figures(year: int, complaints: Iterable[ComplaintRow], policy_months: Iterable[int], today: date) -> AnnualFigures:
    """Count the year's complaints and policy questions (``policy_months``: the month of each one)."""
    rows = [r for r in complaints if r.received.year == year]
    policy = Counter(policy_months)
    return AnnualFigures(
        year=year,
        total=len(rows),
        by_organ=dict(Counter(ORGAN_NL.get(r.organ, r.organ) for r in rows).most_common()),
        by_channel=dict(Counter(r.channel for r in rows).most_common()),
        by_category=dict(Counter(r.category for r in rows).most_common()),
        by_month={m: sum(1 for r in rows if r.received.month == m) for m in range(1, 13)},
        by_status={STATUS_NL.get(k, k): v for k, v in Counter(r.status for r in rows).most_common()},
        by_term={TERM_NL[k]: v for k, v in Counter(_term(r, today) for r in rows).most_common()},
        policy_questions_by_month={m: policy.get(m, 0) for m in range(1, 13)},
        policy_questions=sum(policy.values()),
    )


def masked(n: int) -> str:
    """A count as it may be published: "0", "<5" or the number."""
    return "<%d" % MASK_BELOW if 0 < n < MASK_BELOW else str(n)
