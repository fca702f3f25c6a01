"""The review domain: people's decisions beside the model's, the steekproef, measured quality, training records.

No pages here; the web app calls these functions, which take a session
factory and (where a plan is made) the :class:`klachtwacht.flow.Flow` of
``build_services``. Every refusal is a :class:`klachtwacht.errors.ReviewError`
with a Dutch message (:class:`~klachtwacht.errors.InvalidDecision`,
:class:`~klachtwacht.errors.DecisionConflict`,
:class:`~klachtwacht.errors.UndoRefused`), raised before anything changed.

- :mod:`.decide`: ``record_decision``, ``record_bulk`` (overig only),
  ``undo``, ``undo_blocker``, ``withdraw``;
- :mod:`.steekproef`: ``draw``, ``open_samples``, ``confirm_sample``;
- :mod:`.measure`: ``quality``, ``measured`` (review and steekproef apart);
- :mod:`.export`: ``export`` (corpus records for ``train --with-reviews``);
- :mod:`.labels`: the labels and sub-types a person may choose, with Dutch names.
"""

from klachtwacht.review.decide import record_bulk, record_decision, undo, undo_blocker, withdraw
from klachtwacht.review.labels import LABEL_NAMES, LABELS, OVERIG_SUBTYPES, SUBTYPE_NAMES, SUBTYPES

__all__ = ["record_decision", "record_bulk", "undo", "undo_blocker", "withdraw", "LABELS", "LABEL_NAMES", "OVERIG_SUBTYPES", "SUBTYPES", "SUBTYPE_NAMES"]
