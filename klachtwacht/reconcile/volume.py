"""Drops in a channel's weekly volume: a lower-sided negative-binomial CUSUM.

The pure core of the ``volume_drop`` check. A *channel* is one mailbox (or one
mailbox and label); its history is one count per ISO week. The detector answers
one question: has the channel been receiving clearly less mail than its own
past says it should, for long enough that chance is an unlikely explanation?
That is the Almelo question: a web form that swallowed complaints for seven
months made the count drop from 245 a year to 106, and nobody noticed.

Method (see the README's reconciliation section):

1. Each week has an exposure (working days / 5). Holiday weeks (school holidays
   of the region, Christmas) are left out of the baseline, and the detector is
   frozen over them: no update, no alarm.
2. The baseline for week *t* is taken from up to 26 ordinary weeks that end
   ``guard`` weeks before *t* (so a drop that has begun does not pull its own
   baseline down): the expected count is ``exposure x median(rate)``, the
   dispersion ``r`` from the moments of the rates (Poisson when the variance
   does not exceed the mean).
3. The lower CUSUM for a drop to half, ``mu1 = mu0 / 2``:
   ``S_t = max(0, S_(t-1) + l_t)`` with the log-likelihood ratio of the
   negative-binomial (or Poisson) counts under ``mu1`` against ``mu0``.
4. The alarm threshold ``h`` is calibrated on the channel's own fitted model by
   simulation, so that false alarms come less than once in ``years`` years
   (twice that as a margin), whatever the channel's size and spread.
5. With fewer than ``MIN_HISTORY`` ordinary weeks the answer is "onvoldoende
   historie": no statistics on a channel that has no past.

Silence is not statistics: a channel that goes quiet tonight cannot be told
from chance for days (:func:`silent_gap`); the canary probe and the mailbox
check are what see it on the first night.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from klachtwacht.reconcile.calendar import WeekInfo

__all__ = [
    "MIN_HISTORY",
    "WeekCount",
    "WeekState",
    "VolumeVerdict",
    "detect_drop",
    "threshold_for",
    "silent_gap",
    "explain",
]

#: Ordinary (non-holiday) weeks of history needed before anything is said.
MIN_HISTORY = 8
#: Ordinary weeks the baseline is taken from, at most.
BASELINE_WEEKS = 26
#: Ordinary weeks the spread (dispersion) is estimated from, at most.
SPREAD_WEEKS = 80
#: Weeks between the baseline and the week judged (shortened while history is short).
GUARD_WEEKS = 8
#: The drop the detector is tuned to: to half the expected volume.
DROP_RATIO = 0.5
#: Ordinary weeks in a year (52 less about 12 holiday weeks), for the false-alarm budget.
ORDINARY_WEEKS_PER_YEAR = 40
#: Safety factor on the false-alarm budget (the fitted model is itself an estimate).
MARGIN = 1.5


@dataclass(frozen=True, slots=True)
class WeekCount:
    """One week of a channel: the calendar facts and how many messages arrived."""

    week: WeekInfo
    count: int


@dataclass(frozen=True, slots=True)
class WeekState:
    """The detector after one week."""

    week: WeekInfo
    count: int
    expected: float | None  # None: frozen (holiday) or too little history
    cusum: float
    threshold: float | None
    alarm: bool  # this week raised (or kept) the alarm


@dataclass(frozen=True, slots=True)
class VolumeVerdict:
    """What the detector says about the last week of a channel's history."""

    status: str  # "ok" | "drop" | "onvoldoende_historie"
    weeks: tuple[WeekState, ...] = field(repr=False)
    history_weeks: int  # ordinary weeks of history before the last week
    since: WeekInfo | None = None  # first week of the current run of low counts
    observed: int = 0  # messages since ``since``
    expected: float = 0.0  # what the baseline expected since ``since``

    @property
    def alarm_weeks(self) -> list[WeekInfo]:
        """Weeks in which an alarm started (the CUSUM crossed its threshold from below)."""
        starts: list[WeekInfo] = []
        before = False
        for state in self.weeks:
            if state.expected is None:
                continue  # frozen: neither raises nor clears an alarm
            if state.alarm and not before:
                starts.append(state.week)
            before = state.alarm
        return starts


def _fit(level_rates: Sequence[float], spread_rates: Sequence[float]) -> tuple[float, float]:
    """Expected weekly rate and negative-binomial size ``r`` (``inf`` for Poisson).

    The level is a trimmed mean of the recent weeks (the median of small counts
    lies below their mean, which would blunt the detector); the spread comes from
    the longer window, because a variance from a few weeks is mostly noise.
    """
    ordered = sorted(level_rates)
    cut = len(ordered) // 10
    kept = ordered[cut : len(ordered) - cut] or ordered
    level = sum(kept) / len(kept)
    mean = sum(spread_rates) / len(spread_rates)
    var = sum((x - mean) ** 2 for x in spread_rates) / max(1, len(spread_rates) - 1)
    if var <= 1.2 * mean or mean <= 0.0:  # within sampling noise of Poisson
        return level, math.inf
    return level, max(0.5, mean * mean / (var - mean))


def _llr(x: int | np.ndarray, mu0: float, r: float) -> float | np.ndarray:
    """Log-likelihood ratio of ``x`` under a drop to ``DROP_RATIO x mu0`` against ``mu0``."""
    mu1 = DROP_RATIO * mu0
    if math.isinf(r):
        return x * math.log(mu1 / mu0) - (mu1 - mu0)
    return x * math.log(mu1 * (mu0 + r) / (mu0 * (mu1 + r))) + r * math.log((mu0 + r) / (mu1 + r))


def _quantise(value: float, step: float) -> float:
    return max(step, round(value / step) * step)


@lru_cache(maxsize=512)
def _threshold(mu0: float, r: float, years: float) -> float:
    target = MARGIN * years * ORDINARY_WEEKS_PER_YEAR  # mean ordinary weeks between false alarms
    runs, length = 400, int(target * 2)
    rng = np.random.default_rng(20260101)  # fixed: the same channel always gets the same threshold
    if math.isinf(r):
        counts = rng.poisson(mu0, size=(runs, length))
    else:
        counts = rng.negative_binomial(r, r / (r + mu0), size=(runs, length))
    steps = np.asarray(_llr(counts, mu0, r), dtype=float)
    s = np.zeros(runs)
    paths = np.empty((runs, length))
    for t in range(length):
        s = np.maximum(0.0, s + steps[:, t])
        paths[:, t] = s
    peak = np.maximum.accumulate(paths, axis=1)
    for h in np.arange(0.5, 30.0, 0.25):
        crossed = peak > h
        first = np.where(crossed.any(axis=1), crossed.argmax(axis=1) + 1, length)
        if float(first.mean()) >= target:
            return float(h)
    return 30.0


def threshold_for(mu0: float, r: float, years: float = 5.0) -> float:
    """The alarm threshold for a channel expecting ``mu0`` a week with spread ``r``.

    Chosen so that, if nothing changes, the mean time between false alarms is at
    least twice ``years`` years of ordinary weeks. Inputs are rounded so that
    similar channels share one simulation.
    """
    mu_q = round(math.exp(round(math.log(max(mu0, 0.1)) / 0.1) * 0.1), 3)  # steps of about 10%
    r_q = math.inf if math.isinf(r) or r > 64 else float(2 ** round(math.log2(max(r, 0.5))))
    return _threshold(mu_q, r_q, years)


def detect_drop(history: Sequence[WeekCount], *, years: float = 5.0) -> VolumeVerdict:
    """Run the detector over ``history`` (oldest first) and judge its last week."""
    states: list[WeekState] = []
    ordinary: list[float] = []  # rates of ordinary weeks seen so far, in order
    s = 0.0
    run_start: int | None = None
    alarmed = False
    for index, item in enumerate(history):
        week, count = item.week, item.count
        usable = not week.holiday and week.working_days > 0
        guard = min(GUARD_WEEKS, max(0, len(ordinary) - MIN_HISTORY))
        past = ordinary[: len(ordinary) - guard]
        window = past[-BASELINE_WEEKS:]
        if not usable or len(window) < MIN_HISTORY:
            states.append(WeekState(week, count, None, s, None, alarmed and usable))
            if usable:
                ordinary.append(count / week.exposure)
            continue
        rate, r = _fit(window, past[-SPREAD_WEEKS:])
        mu0 = max(rate * week.exposure, 0.05)
        h = threshold_for(rate, r, years)
        before = s
        s = max(0.0, s + float(_llr(count, mu0, r)))
        if before == 0.0 and s > 0.0:
            run_start = index
        elif s == 0.0:
            run_start = None
        alarmed = s > h
        if alarmed:
            s = min(s, 2.0 * h)  # a long outage should not take a year to clear once mail flows again
        states.append(WeekState(week, count, mu0, s, h, alarmed))
        ordinary.append(count / week.exposure)
    judged = [st for st in states if st.expected is not None]
    history_weeks = sum(1 for st in states[:-1] if not st.week.holiday and st.week.working_days > 0)
    if not judged:
        return VolumeVerdict("onvoldoende_historie", tuple(states), history_weeks)
    if not judged[-1].alarm or run_start is None:
        return VolumeVerdict("ok", tuple(states), history_weeks)
    run = [st for st in states[run_start:] if st.expected is not None]
    observed = sum(st.count for st in run)
    expected = sum(st.expected or 0.0 for st in run)
    return VolumeVerdict("drop", tuple(states), history_weeks, states[run_start].week, observed, expected)


def silent_gap(working_days_without_mail: int, expected_per_week: float, p: float = 1e-4) -> bool:
    """True when that many working days without any mail is too unlikely to be chance.

    With ``expected_per_week / 5`` messages a working day the chance of ``g``
    empty working days in a row is ``exp(-rate * g)``.
    """
    rate = expected_per_week / 5.0
    return rate > 0 and math.exp(-rate * working_days_without_mail) < p


def explain(verdict: VolumeVerdict, channel: str) -> str:
    """The verdict in plain Dutch for the coordinator's report."""
    if verdict.status == "onvoldoende_historie":
        return (
            "%s: onvoldoende historie (%d gewone weken, minstens %d nodig) om een daling te herkennen; "
            "de controle van de mailbox en de testberichten bewaken dit kanaal tot dan." % (channel, verdict.history_weeks, MIN_HISTORY)
        )
    if verdict.status == "ok":
        return "%s: het aantal berichten per week past bij wat dit kanaal gewoonlijk ontvangt." % channel
    assert verdict.since is not None
    share = verdict.observed / verdict.expected if verdict.expected else 0.0
    return (
        "%s: sinds week %s kwamen er %d berichten binnen, waar er op grond van de gewone weken daarvoor ongeveer %.0f "
        "te verwachten waren (%.0f%%). Zo'n daling komt bij dit kanaal minder dan eens in de vijf jaar toevallig voor: "
        "controleer of dit kanaal nog werkt (webformulier, doorsturen, mailbox)."
        % (channel, verdict.since.label, verdict.observed, verdict.expected, 100 * share)
    )
