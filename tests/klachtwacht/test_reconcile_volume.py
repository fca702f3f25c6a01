"""The volume-drop detector on seeded years of weekly history (no server needed)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from support.volume_history import Channel, history

from klachtwacht.reconcile.calendar import week_info, week_start, weeks
from klachtwacht.reconcile.volume import MIN_HISTORY, WeekCount, detect_drop, explain, silent_gap

FIRST, LAST = date(2019, 1, 7), date(2026, 11, 30)
#: Twenty channels across the range of municipal mailboxes: 2 to 30 a week, some over-dispersed.
CHANNELS = [Channel(mean, size, region) for mean, size, region in [
    (2, None, "noord"), (2.5, 8.0, "midden"), (3, None, "zuid"), (4.7, None, "midden"), (4.7, 6.0, "noord"),
    (5, 10.0, "zuid"), (6, None, "midden"), (7, 5.0, "noord"), (8, None, "zuid"), (10, 10.0, "midden"),
    (12, None, "noord"), (14, 8.0, "zuid"), (16, None, "midden"), (18, 12.0, "noord"), (20, None, "zuid"),
    (22, 10.0, "midden"), (25, None, "noord"), (27, 15.0, "zuid"), (30, None, "midden"), (30, 10.0, "noord"),
]]


def test_the_calendar_knows_dutch_school_holidays_and_public_holidays() -> None:
    koningsdag_week = week_info(week_start(date(2026, 4, 27)), "midden")
    assert koningsdag_week.working_days == 4
    summer = week_info(week_start(date(2026, 8, 4)), "midden")
    assert summer.holiday and summer.holiday_name == "zomervakantie"
    assert week_info(week_start(date(2026, 12, 28)), "zuid").holiday_name == "kerstvakantie"
    ordinary = week_info(week_start(date(2026, 3, 10)), "noord")
    assert not ordinary.holiday and ordinary.exposure == 1.0


def test_no_change_gives_at_most_one_false_alarm_per_five_channel_years_and_none_in_holidays() -> None:
    alarms = 0
    channel_years = 0.0
    for seed, channel in enumerate(CHANNELS):
        series = history(channel, FIRST, LAST, seed=1000 + seed)
        verdict = detect_drop(series)
        starts = verdict.alarm_weeks
        alarms += len(starts)
        channel_years += len(series) / 52.18
        assert all(not w.holiday for w in starts)
        assert not any(state.alarm for state in verdict.weeks if state.week.holiday)
    assert alarms <= channel_years / 5, (alarms, channel_years)


@pytest.mark.parametrize("mean,size,share", [(4.7, None, 0.8), (10, 10.0, 0.85), (30, None, 0.95), (30, 10.0, 0.9)])
def test_an_almelo_like_drop_to_43_percent_is_flagged_within_8_weeks(mean: float, size: float | None, share: float) -> None:
    drop_from = date(2025, 3, 3)
    caught = 0
    tries = 20
    for seed in range(tries):
        series = history(Channel(mean, size), date(2022, 1, 3), drop_from + timedelta(weeks=8), seed=seed, drop_from=drop_from, drop_to=0.43)
        verdict = detect_drop(series)
        if any(w.start >= drop_from for w in verdict.alarm_weeks):
            caught += 1
    assert caught >= share * tries, "%d of %d drops flagged within 8 weeks" % (caught, tries)


def test_a_flagged_drop_is_explained_in_dutch_with_its_start_and_counts() -> None:
    drop_from = date(2025, 3, 3)
    series = history(Channel(245 / 46, None), date(2022, 1, 3), drop_from + timedelta(weeks=8), seed=0, drop_from=drop_from, drop_to=106 / 245)
    verdict = detect_drop(series)
    assert verdict.status == "drop"
    assert verdict.since is not None and drop_from - timedelta(weeks=6) <= verdict.since.start <= drop_from + timedelta(weeks=8)
    assert verdict.observed < verdict.expected
    text = explain(verdict, "wethouder-devries")
    assert "sinds week" in text and "te verwachten" in text and "controleer" in text


def test_fewer_than_8_weeks_of_history_says_onvoldoende_historie() -> None:
    series = history(Channel(10, None), date(2026, 9, 7), date(2026, 10, 26), seed=3)
    ordinary = sum(1 for w in series[:-1] if not w.week.holiday)
    assert ordinary < MIN_HISTORY
    verdict = detect_drop(series)
    assert verdict.status == "onvoldoende_historie"
    assert "onvoldoende historie" in explain(verdict, "raad")


def test_a_channel_that_goes_on_as_before_is_ok() -> None:
    verdict = detect_drop(history(Channel(8, 10.0), date(2024, 1, 1), date(2026, 11, 30), seed=11))
    assert verdict.status == "ok"
    assert "past bij" in explain(verdict, "burgemeester")


def test_holiday_weeks_freeze_the_detector() -> None:
    series = history(Channel(10, None), date(2024, 1, 1), date(2026, 6, 29), seed=5)
    summer = [w for w in weeks(date(2026, 7, 6), date(2026, 9, 28), "midden") if w.holiday]
    verdict = detect_drop([*series, *(WeekCount(w, 0) for w in summer)])
    frozen = verdict.weeks[-len(summer):]
    assert all(state.expected is None and not state.alarm for state in frozen)
    assert frozen[-1].cusum == verdict.weeks[len(series) - 1].cusum


def test_a_silent_gap_is_unlikely_only_after_enough_working_days() -> None:
    assert not silent_gap(3, expected_per_week=5)  # one a working day: three empty days happen
    assert not silent_gap(7, expected_per_week=5)  # p = 0.0009: one channel-night in a thousand is too often
    assert silent_gap(10, expected_per_week=5)
    assert silent_gap(1, expected_per_week=50)
    assert not silent_gap(30, expected_per_week=0)
