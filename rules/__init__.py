"""Pure rules: from a parsed message and its classification to a decision."""

from rules.decide import Action, Decision, Thresholds, decide

__all__ = ["Action", "Decision", "Thresholds", "decide"]
