"""Pure decisions: what happens to a message, given its classification.

No I/O: a :class:`Decision` is computed from plain data and carried out by a
separate step. Thresholds come from the classifier's operating points and can
be set per organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.records import Classification
from ingest.records import ParsedMessage

__all__ = ["Action", "Thresholds", "Decision", "decide"]


class Action:
    """What the worker does with a message."""

    REGISTER = "register"  # a complaint: into the register, notice to sender and secretary
    REVIEW = "review"  # uncertain: a secretary decides
    POLICY = "policy"  # a policy question: the secretary is told it needs an answer
    BEZWAAR = "bezwaar"  # a bezwaarschrift: forwarded to the objections team (Awb 6:15)
    WOO = "woo"  # a Woo request: forwarded to the Woo desk
    ARCHIVE = "archive"  # nothing to do

    ALL = (REGISTER, REVIEW, POLICY, BEZWAAR, WOO, ARCHIVE)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Operating points on the klacht probability.

    At or above ``register`` a message is registered automatically; at or
    above ``review`` (and below ``register``) a secretary looks at it.
    """

    register: float = 0.85
    review: float = 0.15

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.register <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 <= review ({self.review}) <= register ({self.register}) <= 1")


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of the rules for one message."""

    action: str
    reason: str  # Dutch, for the history and the review screen
    notify_sender: bool  # False for automatic mail (RFC 3834) and where no notice is due
    by: str = "model"  # model | rule | reviewer


def decide(parsed: ParsedMessage, classification: Classification, thresholds: Thresholds) -> Decision:
    """Decide what happens to ``parsed`` given ``classification``."""
    automatic = parsed.is_automatic
    notify = not automatic
    if classification.needs_review:
        return Decision(Action.REVIEW, "het model kan dit bericht niet beoordelen: " + "; ".join(classification.reasons[:2]), notify)
    p_klacht = classification.scores.get("klacht", 0.0)
    if automatic and classification.label != "klacht":
        return Decision(Action.ARCHIVE, "automatisch bericht (" + ", ".join(parsed.auto_signals) + ")", False, by="rule")
    if p_klacht >= thresholds.register:
        return Decision(Action.REGISTER, f"klacht met kans {p_klacht:.0%} (drempel {thresholds.register:.0%})", notify)
    if p_klacht >= thresholds.review:
        return Decision(Action.REVIEW, f"mogelijk een klacht (kans {p_klacht:.0%}): ter beoordeling", notify)
    if classification.label == "beleidsvraag":
        return Decision(Action.POLICY, "beleidsvraag: beantwoorden, niet registreren als klacht", notify)
    if classification.subtype == "bezwaar":
        return Decision(Action.BEZWAAR, "bezwaarschrift: doorsturen naar het bezwaarteam (Awb 6:15)", notify)
    if classification.subtype == "woo":
        return Decision(Action.WOO, "Woo-verzoek: doorsturen naar het Woo-loket", notify)
    return Decision(Action.ARCHIVE, f"overig ({classification.subtype or 'geen subtype'})", False)
