"""Pure rules: from a parsed message and its classification to a decision."""

from rules.deadlines import ComplaintTerms, complaint_terms, roll_forward
from rules.decide import Action, Decision, Thresholds, decide
from rules.routing import Route, Routing, route

__all__ = ["Action", "Decision", "Thresholds", "decide", "Route", "Routing", "route", "ComplaintTerms", "complaint_terms", "roll_forward"]
