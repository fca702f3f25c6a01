"""The review domain: people's decisions beside the model's, the steekproef, measured quality, training records.

No pages here (the web app calls these functions): :mod:`.decide` (decide,
undo, withdraw), :mod:`.steekproef` (the weekly sample of automatic
decisions), :mod:`.measure` (precision and recall with Wilson intervals),
:mod:`.export` (reviewed decisions as corpus records).
"""

from klachtwacht.review.decide import record_decision, undo, withdraw
from klachtwacht.review.labels import LABELS, OVERIG_SUBTYPES, SUBTYPES

__all__ = ["record_decision", "undo", "withdraw", "LABELS", "OVERIG_SUBTYPES", "SUBTYPES"]
