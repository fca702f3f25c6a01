"""How good the model is on the municipality's own mail: precision and recall per label, with 95% Wilson intervals.

Two estimates, reported apart, because they answer different questions:

* **review**: the messages the model sent to a person. These are, by
  construction, the ones it was unsure of (a klacht probability between the
  review and the register threshold, or text it could not judge). Its
  precision and recall there are far lower than on the mail it decides alone,
  and the mix of labels is skewed toward the hard cases. Read alone, they
  under-state the model, and they say nothing about the automatic decisions,
  which nobody looks at otherwise.
* **steekproef**: a uniform random sample of the automatic decisions (see
  :mod:`klachtwacht.review.steekproef`). Because every automatic decision had
  the same chance to be drawn, the share confirmed is an unbiased estimate of
  the precision of what runs without a person, which is what a municipality
  must know before it lets the model register complaints and send letters
  on its own. Its "recall" is recall among automatically decided mail only;
  a complaint the model sent to review is not in it.

Corrections made afterwards (source ``correction``) are left out of both:
they are found because someone noticed an error, so they would only count
errors. Undone decisions are left out too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.config import Config
from klachtwacht.db.models import ReviewDecision, Sample, Sighting
from klachtwacht.review.labels import LABELS

__all__ = ["LabelQuality", "Measured", "quality", "wilson", "measured", "Z95"]

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n``; (0, 1) when ``n`` is 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes ({successes}) must lie between 0 and n ({n})")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class LabelQuality:
    """One label's figures: counts, precision and recall (None without any case) and their intervals."""

    label: str
    predicted: int  # how often the model said this label
    actual: int  # how often a person decided this label
    correct: int  # both
    precision: float | None
    precision_interval: tuple[float, float]
    recall: float | None
    recall_interval: tuple[float, float]

    @property
    def f1(self) -> float | None:
        if self.precision is None or self.recall is None or self.precision + self.recall == 0:
            return None
        return 2 * self.precision * self.recall / (self.precision + self.recall)


def quality(pairs: Iterable[tuple[str, str]]) -> dict[str, LabelQuality]:
    """Per label, from (predicted, final) pairs: precision = correct / predicted, recall = correct / actual."""
    predicted = dict.fromkeys(LABELS, 0)
    actual = dict.fromkeys(LABELS, 0)
    correct = dict.fromkeys(LABELS, 0)
    for guess, final in pairs:
        if guess not in predicted or final not in actual:
            raise ValueError(f"unknown label in pair ({guess!r}, {final!r})")
        predicted[guess] += 1
        actual[final] += 1
        correct[guess] += guess == final
    return {
        label: LabelQuality(
            label, predicted[label], actual[label], correct[label],
            correct[label] / predicted[label] if predicted[label] else None, wilson(correct[label], predicted[label]),
            correct[label] / actual[label] if actual[label] else None, wilson(correct[label], actual[label]),
        )
        for label in LABELS
    }


@dataclass(frozen=True)
class Measured:
    """The two estimates, apart (see the module's docstring), and how often a review changed the suggestion."""

    review: dict[str, LabelQuality]
    steekproef: dict[str, LabelQuality]
    n_review: int
    n_steekproef: int
    corrected_review: int  # review decisions whose final label differs from the suggestion

    @property
    def corrected_share(self) -> float | None:
        return self.corrected_review / self.n_review if self.n_review else None


def measured(
    sessions: sessionmaker[Session], *, organisation: str | None = None, config: Config | None = None, since: datetime | None = None,
) -> Measured:
    """Both estimates from the decisions in the database (not undone, with a prediction), since ``since``.

    With ``organisation``, the steekproef counts that organisation's samples
    and the reviews count messages seen in its mailboxes (``config`` names
    them; without it the reviews are not filtered).
    """
    query = select(ReviewDecision.source, ReviewDecision.predicted_label, ReviewDecision.final_label, ReviewDecision.message_pk).where(
        ReviewDecision.undone_at.is_(None), ReviewDecision.source.in_(("review", "steekproef")), ReviewDecision.predicted_label.is_not(None),
    )
    if since is not None:
        query = query.where(ReviewDecision.at >= since)
    if organisation is not None:
        sampled = select(Sample.decision_id).where(Sample.organisation == organisation, Sample.decision_id.is_not(None))
        in_review = ReviewDecision.source == "review"
        if config is not None:
            boxes = [m.name for m in config.mailboxes if m.organisation == organisation]
            in_review = in_review & ReviewDecision.message_pk.in_(select(Sighting.message_pk).where(Sighting.mailbox.in_(boxes)))
        query = query.where(in_review | ((ReviewDecision.source == "steekproef") & ReviewDecision.id.in_(sampled)))
    with sessions() as session:
        rows = [(source, str(guess), final) for source, guess, final, _ in session.execute(query) if guess in LABELS and final in LABELS]
    review = [(g, f) for s, g, f in rows if s == "review"]
    sample = [(g, f) for s, g, f in rows if s == "steekproef"]
    return Measured(quality(review), quality(sample), len(review), len(sample), sum(1 for g, f in review if g != f))
