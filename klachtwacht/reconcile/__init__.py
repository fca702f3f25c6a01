"""Nightly reconciliation: every message accounted for, every channel alive.

This package holds the pure cores of the checks; ``volume`` is the drop
detector for weekly counts and ``calendar`` the Dutch calendar it runs on.
"""

from klachtwacht.reconcile.calendar import WeekInfo, week_info, week_start, weeks
from klachtwacht.reconcile.volume import VolumeVerdict, WeekCount, detect_drop, explain, silent_gap

__all__ = ["WeekInfo", "week_info", "week_start", "weeks", "VolumeVerdict", "WeekCount", "detect_drop", "explain", "silent_gap"]
