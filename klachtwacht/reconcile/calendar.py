"""Weeks as reconciliation counts them: ISO weeks with their exposure and holiday status.

A week's *exposure* is its number of working days (Monday to Friday, less the
holidays of the Algemene termijnenwet, as ``rules.deadlines`` knows them) divided by five, so a week with Koningsdag
and Hemelvaartsdag expects 3/5 of the usual mail. A week is a *holiday week*
when any of its working days falls in the school holidays of the region, or it
is ISO week 52, 53 or 1: such weeks are left out of the baseline and the drop
detector is frozen over them (mail to bestuurders dips then for good reasons).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from rules.deadlines import is_working_day

__all__ = ["REGIONS", "WeekInfo", "week_start", "week_info", "weeks", "is_working_day", "working_days_between"]

#: The school-holiday regions of the Netherlands as the ``holidays`` package names them.
REGIONS = ("noord", "midden", "zuid")
_SUBDIV = {"noord": "Noord", "midden": "Midden", "zuid": "Zuid"}
#: ISO weeks treated as holiday weeks whatever the region (Christmas and New Year).
CHRISTMAS_WEEKS = frozenset({52, 53, 1})


@dataclass(frozen=True, slots=True)
class WeekInfo:
    """One ISO week: its Monday, working days and whether it is a holiday week."""

    start: date  # the Monday
    working_days: int
    holiday: bool
    holiday_name: str | None = None  # e.g. "zomervakantie" when ``holiday``

    @property
    def exposure(self) -> float:
        return self.working_days / 5.0

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return "%d-W%02d" % (year, week)


#: Dutch names for the school holidays the ``holidays`` package reports in English.
_DUTCH = {
    "christmas": "kerstvakantie",
    "spring": "voorjaarsvakantie",
    "may": "meivakantie",
    "summer": "zomervakantie",
    "autumn": "herfstvakantie",
}


def _dutch_name(name: str) -> str:
    lowered = name.lower()
    for key, dutch in _DUTCH.items():
        if key in lowered:
            return dutch
    return "schoolvakantie"


@lru_cache(maxsize=64)
def _school(year: int, region: str) -> dict[date, str]:
    if region not in _SUBDIV:
        raise ValueError("unknown school-holiday region %r (one of %s)" % (region, ", ".join(REGIONS)))
    found = holidays.country_holidays("NL", subdiv=_SUBDIV[region], categories=("school",), years=[year])
    return {day: _dutch_name(str(name)) for day, name in found.items()}


def week_start(day: date) -> date:
    """The Monday of the ISO week that holds ``day``."""
    return day - timedelta(days=day.weekday())


def week_info(monday: date, region: str) -> WeekInfo:
    """Working days and holiday status of the week starting on ``monday``."""
    days = [monday + timedelta(days=i) for i in range(5)]
    working = sum(1 for d in days if is_working_day(d))
    name: str | None = None
    for d in days:
        school = _school(d.year, region).get(d)
        if school:
            name = school
            break
    if name is None and monday.isocalendar()[1] in CHRISTMAS_WEEKS:
        name = "kerstvakantie"
    return WeekInfo(monday, working, name is not None, name)


def weeks(first: date, last: date, region: str) -> Iterator[WeekInfo]:
    """Every ISO week from the one holding ``first`` to the one holding ``last``."""
    monday = week_start(first)
    end = week_start(last)
    while monday <= end:
        yield week_info(monday, region)
        monday += timedelta(days=7)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count
