"""Awb complaint terms rolled forward by the Algemene termijnenwet (rules/deadlines.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from rules.deadlines import AMSTERDAM, complaint_terms, easter, holidays, is_working_day, local_date, roll_forward

SIX_WEEKS = timedelta(weeks=6)
FOUR_WEEKS = timedelta(weeks=4)


def received_on(day: date, hour: int = 12) -> datetime:
    """A receipt moment on ``day`` in Dutch local time (noon: far from midnight)."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=AMSTERDAM)


# Every Atw article 3 holiday of 2026 and 2027 with the first working day from it on.
# 2026: Easter 5 April. 2027: Easter 28 March; Hemelvaartsdag falls on 6 May, the day after 5 mei.
HOLIDAYS_2026_2027 = [
    pytest.param(date(2026, 1, 1), date(2026, 1, 2), id="2026-nieuwjaarsdag-thursday"),
    pytest.param(date(2026, 4, 3), date(2026, 4, 7), id="2026-goede-vrijdag-then-weekend-then-paasmaandag"),
    pytest.param(date(2026, 4, 6), date(2026, 4, 7), id="2026-tweede-paasdag"),
    pytest.param(date(2026, 4, 27), date(2026, 4, 28), id="2026-koningsdag-monday"),
    pytest.param(date(2026, 5, 5), date(2026, 5, 6), id="2026-vijf-mei"),
    pytest.param(date(2026, 5, 14), date(2026, 5, 15), id="2026-hemelvaartsdag"),
    pytest.param(date(2026, 5, 25), date(2026, 5, 26), id="2026-tweede-pinksterdag"),
    pytest.param(date(2026, 12, 25), date(2026, 12, 28), id="2026-eerste-kerstdag-friday"),
    pytest.param(date(2026, 12, 26), date(2026, 12, 28), id="2026-tweede-kerstdag-saturday"),
    pytest.param(date(2027, 1, 1), date(2027, 1, 4), id="2027-nieuwjaarsdag-friday"),
    pytest.param(date(2027, 3, 26), date(2027, 3, 30), id="2027-goede-vrijdag"),
    pytest.param(date(2027, 3, 29), date(2027, 3, 30), id="2027-tweede-paasdag"),
    pytest.param(date(2027, 4, 27), date(2027, 4, 28), id="2027-koningsdag-tuesday"),
    pytest.param(date(2027, 5, 5), date(2027, 5, 7), id="2027-vijf-mei-then-hemelvaartsdag"),
    pytest.param(date(2027, 5, 6), date(2027, 5, 7), id="2027-hemelvaartsdag"),
    pytest.param(date(2027, 5, 17), date(2027, 5, 18), id="2027-tweede-pinksterdag"),
    pytest.param(date(2027, 12, 25), date(2027, 12, 27), id="2027-eerste-kerstdag-saturday"),
    pytest.param(date(2027, 12, 26), date(2027, 12, 27), id="2027-tweede-kerstdag-sunday"),
]


# --- Easter -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "sunday"),
    [
        (1818, date(1818, 3, 22)),  # earliest possible date
        (1943, date(1943, 4, 25)),  # latest possible date
        (2000, date(2000, 4, 23)),
        (2008, date(2008, 3, 23)),
        (2011, date(2011, 4, 24)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_falls_on_the_known_sunday(year: int, sunday: date) -> None:
    assert easter(year) == sunday
    assert easter(year).weekday() == 6


# --- the holiday list ---------------------------------------------------------


def test_the_2026_holidays_are_exactly_the_atw_article_3_days() -> None:
    assert holidays(2026) == frozenset(
        {
            date(2026, 1, 1),
            date(2026, 4, 3),
            date(2026, 4, 6),
            date(2026, 4, 27),
            date(2026, 5, 5),
            date(2026, 5, 14),
            date(2026, 5, 25),
            date(2026, 12, 25),
            date(2026, 12, 26),
        }
    )


def test_the_2027_holidays_are_exactly_the_atw_article_3_days() -> None:
    assert holidays(2027) == frozenset(
        {
            date(2027, 1, 1),
            date(2027, 3, 26),
            date(2027, 3, 29),
            date(2027, 4, 27),
            date(2027, 5, 5),
            date(2027, 5, 6),
            date(2027, 5, 17),
            date(2027, 12, 25),
            date(2027, 12, 26),
        }
    )


def test_easter_sunday_and_whit_sunday_are_not_listed_as_holidays_of_their_own() -> None:
    """They are Sundays anyway; the list holds Atw article 3 days only."""
    assert date(2026, 4, 5) not in holidays(2026)
    assert date(2026, 5, 24) not in holidays(2026)


@pytest.mark.parametrize("year", [2025, 2031, 2036])
def test_koningsdag_moves_to_26_april_when_27_april_is_a_sunday(year: int) -> None:
    assert date(year, 4, 27).weekday() == 6  # the premise: a Sunday that year
    assert date(year, 4, 26) in holidays(year)
    assert date(year, 4, 27) not in holidays(year)


@pytest.mark.parametrize("year", [2026, 2027, 2028])
def test_koningsdag_stays_on_27_april_in_other_years(year: int) -> None:
    assert date(year, 4, 27) in holidays(year)
    assert date(year, 4, 26) not in holidays(year)


def test_a_day_before_or_after_a_holiday_is_an_ordinary_working_day() -> None:
    assert is_working_day(date(2026, 5, 4))  # Monday before 5 mei
    assert is_working_day(date(2026, 5, 13))  # Wednesday before Hemelvaartsdag
    assert is_working_day(date(2026, 12, 24))  # Kerstavond is no Atw holiday
    assert is_working_day(date(2026, 12, 31))  # nor is Oudejaarsdag


# --- rolling forward (Atw article 1) ---------------------------------------


@pytest.mark.parametrize(("holiday", "next_working_day"), HOLIDAYS_2026_2027)
def test_a_holiday_is_not_a_working_day(holiday: date, next_working_day: date) -> None:
    assert not is_working_day(holiday)
    assert roll_forward(holiday) == next_working_day


@pytest.mark.parametrize(("holiday", "next_working_day"), HOLIDAYS_2026_2027)
def test_a_six_week_term_ending_on_a_holiday_runs_to_the_next_working_day(holiday: date, next_working_day: date) -> None:
    terms = complaint_terms(received_on(holiday - SIX_WEEKS))
    assert terms.due == next_working_day


@pytest.mark.parametrize(("holiday", "next_working_day"), HOLIDAYS_2026_2027)
def test_a_four_week_refusal_term_ending_on_a_holiday_runs_to_the_next_working_day(holiday: date, next_working_day: date) -> None:
    terms = complaint_terms(received_on(holiday - FOUR_WEEKS))
    assert terms.refusal_due == next_working_day


def test_a_working_day_rolls_to_itself() -> None:
    assert roll_forward(date(2026, 3, 11)) == date(2026, 3, 11)


def test_a_saturday_rolls_to_the_monday() -> None:
    assert roll_forward(date(2026, 3, 14)) == date(2026, 3, 16)


def test_a_sunday_rolls_to_the_monday() -> None:
    assert roll_forward(date(2026, 3, 15)) == date(2026, 3, 16)


def test_a_term_rolls_over_the_year_end_into_the_next_years_nieuwjaarsdag() -> None:
    """Sat 30 Dec 2028 -> Sun 31 Dec -> Mon 1 Jan 2029 is Nieuwjaarsdag -> Tue 2 Jan 2029."""
    assert date(2029, 1, 1).weekday() == 0  # the premise: a Monday
    assert roll_forward(date(2028, 12, 30)) == date(2029, 1, 2)


# --- complaint terms -------------------------------------------------------


def test_a_complaint_is_due_six_weeks_after_receipt() -> None:
    """Awb 9:11 lid 1: Wed 11 March 2026 + 6 weeks = Wed 22 April 2026, a working day."""
    terms = complaint_terms(received_on(date(2026, 3, 11)))
    assert terms.received == date(2026, 3, 11)
    assert terms.due == date(2026, 4, 22)


def test_a_refusal_is_due_four_weeks_after_receipt() -> None:
    """Awb 9:8: Wed 11 March 2026 + 4 weeks = Wed 8 April 2026."""
    assert complaint_terms(received_on(date(2026, 3, 11))).refusal_due == date(2026, 4, 8)


def test_an_extension_adds_four_weeks_to_the_six_week_term() -> None:
    """Awb 9:11 lid 2: Wed 11 March 2026 + 10 weeks = Wed 20 May 2026."""
    assert complaint_terms(received_on(date(2026, 3, 11))).extended_due == date(2026, 5, 20)


def test_an_extended_term_ending_on_a_holiday_runs_to_the_next_working_day() -> None:
    """Mon 16 Feb 2026 + 10 weeks = Koningsdag Mon 27 April 2026 -> Tue 28 April."""
    terms = complaint_terms(received_on(date(2026, 2, 16)))
    assert terms.due == date(2026, 3, 30)
    assert terms.extended_due == date(2026, 4, 28)


def test_a_complaint_received_on_a_saturday_is_due_on_the_monday_after_six_weeks() -> None:
    terms = complaint_terms(received_on(date(2026, 1, 3)))
    assert terms.received == date(2026, 1, 3)
    assert terms.due == date(2026, 2, 16)
    assert terms.refusal_due == date(2026, 2, 2)
    assert terms.extended_due == date(2026, 3, 16)


def test_a_complaint_received_on_a_sunday_is_due_on_the_monday_after_six_weeks() -> None:
    terms = complaint_terms(received_on(date(2026, 1, 4)))
    assert terms.due == date(2026, 2, 16)


def test_the_terms_never_end_before_their_nominal_length() -> None:
    """Whatever the receipt day in 2026-2027, a term ends on a working day, no earlier than nominal and within five days."""
    day = date(2026, 1, 1)
    while day <= date(2027, 12, 31):
        terms = complaint_terms(received_on(day))
        for due, length in ((terms.due, SIX_WEEKS), (terms.refusal_due, FOUR_WEEKS), (terms.extended_due, SIX_WEEKS + FOUR_WEEKS)):
            assert is_working_day(due)
            assert timedelta(0) <= due - (day + length) <= timedelta(days=5)
        day += timedelta(days=1)


# --- receipt time in Europe/Amsterdam --------------------------------------


def test_a_mail_at_23_30_utc_in_winter_is_received_on_the_next_dutch_day() -> None:
    """23:30 UTC on Tue 10 March 2026 is 00:30 CET on Wed 11 March."""
    terms = complaint_terms(datetime(2026, 3, 10, 23, 30, tzinfo=timezone.utc))
    assert terms.received == date(2026, 3, 11)
    assert terms.due == date(2026, 4, 22)


def test_a_mail_at_22_30_utc_in_summer_is_received_on_the_next_dutch_day() -> None:
    """22:30 UTC on Tue 30 June 2026 is 00:30 CEST on Wed 1 July."""
    assert local_date(datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc)) == date(2026, 7, 1)


def test_a_mail_at_22_30_utc_in_winter_is_received_the_same_dutch_day() -> None:
    """22:30 UTC is 23:30 CET: still the same date."""
    assert local_date(datetime(2026, 3, 10, 22, 30, tzinfo=timezone.utc)) == date(2026, 3, 10)


def test_a_receipt_time_with_another_offset_is_converted_to_dutch_time() -> None:
    """01:00 at UTC+05:00 on 11 March is 21:00 CET on 10 March."""
    moment = datetime(2026, 3, 11, 1, 0, tzinfo=timezone(timedelta(hours=5)))
    assert complaint_terms(moment).received == date(2026, 3, 10)


def test_the_local_receipt_day_decides_whether_a_term_ends_on_a_holiday() -> None:
    """23:30 UTC on Mon 23 March 2026 is Tue 24 March in the Netherlands; + 6 weeks is 5 mei -> Wed 6 May.

    Counted from the UTC date the term would end on Mon 4 May instead.
    """
    terms = complaint_terms(datetime(2026, 3, 23, 23, 30, tzinfo=timezone.utc))
    assert terms.received == date(2026, 3, 24)
    assert terms.due == date(2026, 5, 6)
