"""Awb deadlines, rolled forward by the Algemene termijnenwet.

A term that ends on a Saturday, a Sunday or a holiday of Atw article 3 runs
to the next working day (Atw article 1). The holidays, as this product
applies them: Nieuwjaarsdag, Goede Vrijdag, tweede paasdag, Hemelvaartsdag,
tweede pinksterdag, Koningsdag (27 April, or the 26th when the 27th is a
Sunday), 5 mei and both days of Kerstmis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["easter", "holidays", "is_working_day", "roll_forward", "ComplaintTerms", "complaint_terms", "local_date", "AMSTERDAM"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: Awb 9:11: six weeks to handle a complaint.
HANDLING = timedelta(weeks=6)
#: Awb 9:8: a refusal to handle must be sent within four weeks.
REFUSAL = timedelta(weeks=4)
#: Awb 9:11 lid 2: one extension of at most four weeks.
EXTENSION = timedelta(weeks=4)


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar; the anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def holidays(year: int) -> frozenset[date]:
    """The Atw article 3 holidays of ``year``."""
    sunday = easter(year)
    kingsday = date(year, 4, 27)
    if kingsday.weekday() == 6:
        kingsday = date(year, 4, 26)
    return frozenset(
        {
            date(year, 1, 1),
            sunday - timedelta(days=2),  # Goede Vrijdag
            sunday + timedelta(days=1),  # tweede paasdag
            sunday + timedelta(days=39),  # Hemelvaartsdag
            sunday + timedelta(days=50),  # tweede pinksterdag
            kingsday,
            date(year, 5, 5),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_working_day(day: date) -> bool:
    """Not a Saturday, a Sunday or an Atw holiday."""
    return day.weekday() < 5 and day not in holidays(day.year)


def roll_forward(day: date) -> date:
    """``day`` itself when it is a working day, else the next working day (Atw article 1)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def local_date(moment: datetime) -> date:
    """The calendar date in the Netherlands of an aware ``moment``."""
    return moment.astimezone(AMSTERDAM).date()


@dataclass(frozen=True, slots=True)
class ComplaintTerms:
    """The dates that follow from a complaint's receipt."""

    received: date
    due: date  # Awb 9:11, rolled forward
    refusal_due: date  # Awb 9:8, rolled forward
    extended_due: date  # Awb 9:11 lid 2: due + 4 weeks, rolled forward


def complaint_terms(received_at: datetime) -> ComplaintTerms:
    """The terms of a complaint received at ``received_at`` (the server's receipt time)."""
    received = local_date(received_at)
    due = roll_forward(received + HANDLING)
    return ComplaintTerms(
        received=received,
        due=due,
        refusal_due=roll_forward(received + REFUSAL),
        extended_due=roll_forward(received + HANDLING + EXTENSION),
    )
