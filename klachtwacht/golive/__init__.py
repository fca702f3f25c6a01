"""Going live: the recorded modes, the pilot report of shadow mode, the audit of the past."""

from klachtwacht.golive.modes import current_modes, record_mode_changes

__all__ = ["record_mode_changes", "current_modes"]
