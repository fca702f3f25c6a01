"""What a classifier returns: scores, a label, a confidence and reasons.

Classifiers have no side effects; the rules decide what happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LABELS", "Classification"]

LABELS = ("klacht", "beleidsvraag", "overig")


@dataclass(frozen=True, slots=True)
class Classification:
    """The judgment on one message.

    ``scores`` are calibrated probabilities over :data:`LABELS` summing to 1.
    ``reasons`` are short Dutch phrases a secretary can read.
    ``needs_review`` is set when the classifier should not be trusted on this
    message at all (an unsupported language, no text to judge).
    """

    label: str
    confidence: float
    scores: dict[str, float]
    reasons: tuple[str, ...]
    model: str
    subtype: str | None = None
    language: str = "nl"
    needs_review: bool = False
    prepared_chars: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "reasons": list(self.reasons),
            "model": self.model,
            "subtype": self.subtype,
            "language": self.language,
            "needs_review": self.needs_review,
        }
