"""A seeded generator of weekly mail volumes for the drop detector's tests.

Channels receive between 2 and 30 messages in an ordinary week, over-dispersed
(negative binomial) or not, 40% less in the summer holiday, 60% less at
Christmas, proportionally less in weeks with public holidays; on the real Dutch
calendar (school holidays of the channel's region).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from klachtwacht.reconcile.calendar import WeekInfo, weeks
from klachtwacht.reconcile.volume import WeekCount

__all__ = ["Channel", "history"]


@dataclass(frozen=True)
class Channel:
    mean: float  # messages in an ordinary full week
    size: float | None  # negative-binomial size; None for Poisson
    region: str = "midden"


def _factor(week: WeekInfo) -> float:
    if week.holiday_name == "zomervakantie":
        return 0.6
    if week.holiday_name == "kerstvakantie":
        return 0.4
    if week.holiday:
        return 0.85
    return 1.0


def history(channel: Channel, first: date, last: date, seed: int, *, drop_from: date | None = None, drop_to: float = 1.0) -> list[WeekCount]:
    """Weekly counts from ``first`` to ``last``; from ``drop_from`` on, the mean is multiplied by ``drop_to``."""
    rng = np.random.default_rng(seed)
    out: list[WeekCount] = []
    for week in weeks(first, last, channel.region):
        mu = channel.mean * week.exposure * _factor(week)
        if drop_from is not None and week.start >= drop_from:
            mu *= drop_to
        if channel.size is None:
            count = int(rng.poisson(mu))
        else:
            count = int(rng.negative_binomial(channel.size, channel.size / (channel.size + mu))) if mu > 0 else 0
        out.append(WeekCount(week, count))
    return out
