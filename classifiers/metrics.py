"""Evaluation figures: precision, recall, F1, the confusion matrix, operating points.

Pure functions over lists of labels and klacht probabilities, shared by the
shipped model and the baseline so both are judged the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.records import LABELS

__all__ = [
    "Report", "report", "format_report", "choose_thresholds", "fit_temperature", "apply_temperature",
    "choose_label_threshold", "label_with_threshold", "expected_calibration_error",
]


@dataclass(frozen=True)
class Report:
    name: str
    n: int
    per_class: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    accuracy: float
    confusion: dict[str, dict[str, int]]  # true -> predicted -> count
    klacht_caught: float | None  # share of klacht auto-registered or sent to review
    klacht_auto: float | None  # share of klacht auto-registered
    review_share: float | None  # share of all mail sent to review
    auto_precision: float | None  # precision of auto-registration

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "n": self.n,
            "per_class": {k: {"precision": p, "recall": r, "f1": f, "support": s} for k, (p, r, f, s) in self.per_class.items()},
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "confusion": self.confusion,
            "klacht_caught_at_thresholds": self.klacht_caught,
            "klacht_auto_registered": self.klacht_auto,
            "review_share": self.review_share,
            "auto_register_precision": self.auto_precision,
        }


def report(
    name: str,
    truth: Sequence[str],
    predicted: Sequence[str],
    p_klacht: Sequence[float] | None = None,
    thresholds: tuple[float, float] | None = None,
    forced_review: Sequence[bool] | None = None,
) -> Report:
    """Figures for ``predicted`` against ``truth``; operating points when scores and thresholds are given."""
    confusion = {t: {p: 0 for p in LABELS} for t in LABELS}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_class = {}
    for label in LABELS:
        tp = confusion[label][label]
        fp = sum(confusion[t][label] for t in LABELS if t != label)
        fn = sum(confusion[label][p] for p in LABELS if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = (precision, recall, f1, tp + fn)
    macro = sum(v[2] for v in per_class.values()) / len(LABELS)
    accuracy = sum(confusion[label][label] for label in LABELS) / max(1, len(truth))
    caught = auto = review = auto_precision = None
    if p_klacht is not None and thresholds is not None:
        register_at, review_at = thresholds
        forced = forced_review or [False] * len(truth)
        is_klacht = [t == "klacht" for t in truth]
        in_auto = [p >= register_at and not f for p, f in zip(p_klacht, forced)]
        in_review = [(review_at <= p < register_at) or f for p, f in zip(p_klacht, forced)]
        n_klacht = sum(is_klacht) or 1
        caught = sum(1 for k, a, r in zip(is_klacht, in_auto, in_review) if k and (a or r)) / n_klacht
        auto = sum(1 for k, a in zip(is_klacht, in_auto) if k and a) / n_klacht
        review = sum(in_review) / max(1, len(truth))
        n_auto = sum(in_auto)
        auto_precision = sum(1 for k, a in zip(is_klacht, in_auto) if k and a) / n_auto if n_auto else 1.0
    return Report(name, len(truth), per_class, macro, accuracy, confusion, caught, auto, review, auto_precision)


def format_report(rep: Report) -> str:
    """A plain-text rendering of ``rep``."""
    lines = [f"== {rep.name} ({rep.n} messages)", f"{'class':14}{'precision':>10}{'recall':>9}{'f1':>8}{'support':>9}"]
    for label, (p, r, f, s) in rep.per_class.items():
        lines.append(f"{label:14}{p:10.3f}{r:9.3f}{f:8.3f}{s:9d}")
    lines.append(f"macro-F1 {rep.macro_f1:.3f}   accuracy {rep.accuracy:.3f}")
    lines.append("confusion (rows: true, columns: predicted)")
    lines.append(" " * 14 + "".join(f"{p:>14}" for p in LABELS))
    for t in LABELS:
        lines.append(f"{t:14}" + "".join(f"{rep.confusion[t][p]:14d}" for p in LABELS))
    if rep.klacht_caught is not None:
        lines.append(
            f"at the operating thresholds: klacht auto-registered or to review {rep.klacht_caught:.3f}, "
            f"auto-registered {rep.klacht_auto:.3f} (precision {rep.auto_precision:.3f}), review load {rep.review_share:.3f} of all mail"
        )
    return "\n".join(lines)


def choose_thresholds(truth: Sequence[str], p_klacht: Sequence[float], *, catch: float = 0.98, auto_precision: float = 0.97) -> tuple[float, float]:
    """``(register, review)`` thresholds chosen on the given scores (held-out writers' in training).

    ``review`` is the highest threshold that still catches ``catch`` of the
    complaints (auto-registered or reviewed); ``register`` is the lowest
    threshold at or above it whose auto-registrations are at least
    ``auto_precision`` complaints.
    """
    klacht_scores = sorted(p for t, p in zip(truth, p_klacht) if t == "klacht")
    if not klacht_scores:
        return 0.9, 0.1
    allowed_misses = int(round((1.0 - catch) * len(klacht_scores), 6))  # 4.999999 is 5 misses, not 4
    review = max(0.0, klacht_scores[allowed_misses] - 1e-6)
    review = max(0.0, round(review - 0.00005, 4))  # rounded down, so the catch rate holds for the stored value
    pairs = sorted(zip(p_klacht, truth), reverse=True)
    register = 1.0
    for candidate in sorted({p for p, _ in pairs if p >= review}, reverse=True):
        chosen = [t for p, t in pairs if p >= candidate]
        if sum(1 for t in chosen if t == "klacht") / len(chosen) >= auto_precision:
            register = candidate
        else:
            break
    return round(max(register, review), 4), review


def apply_temperature(probs: Sequence[float], temperature: float) -> list[float]:
    """Soften (T > 1) or sharpen (T < 1) a probability vector."""
    import math

    logs = [math.log(max(p, 1e-12)) / temperature for p in probs]
    top = max(logs)
    exps = [math.exp(v - top) for v in logs]
    total = sum(exps)
    return [e / total for e in exps]


def fit_temperature(prob_rows: Sequence[Sequence[float]], truth_idx: Sequence[int]) -> float:
    """The temperature that minimises the negative log-likelihood on dev (grid search)."""
    import math

    best_t, best_nll = 1.0, float("inf")
    for step in range(5, 81):
        t = step / 20
        nll = 0.0
        for row, idx in zip(prob_rows, truth_idx):
            nll -= math.log(max(apply_temperature(row, t)[idx], 1e-12))
        if nll < best_nll:
            best_t, best_nll = t, nll
    return best_t


def label_with_threshold(scores: dict[str, float], klacht_at: float) -> str:
    """klacht at or above ``klacht_at``, else the likelier of the other two labels."""
    if scores["klacht"] >= klacht_at:
        return "klacht"
    return max(("beleidsvraag", "overig"), key=lambda label: scores[label])


def choose_label_threshold(truth: Sequence[str], scores: Sequence[dict[str, float]], *, min_recall: float = 0.96) -> float:
    """The klacht label threshold with the best macro-F1 among those keeping klacht recall >= ``min_recall``."""
    best_t, best_f1 = 0.5, -1.0
    for step in range(10, 71):
        t = step / 100
        rep = report("threshold", truth, [label_with_threshold(s, t) for s in scores])
        if rep.per_class["klacht"][1] >= min_recall and rep.macro_f1 > best_f1:
            best_t, best_f1 = t, rep.macro_f1
    if best_f1 < 0:  # recall target out of reach: the best macro-F1 at any threshold
        for step in range(10, 71):
            t = step / 100
            f1 = report("threshold", truth, [label_with_threshold(s, t) for s in scores]).macro_f1
            if f1 > best_f1:
                best_t, best_f1 = t, f1
    return best_t


def expected_calibration_error(probs: Sequence[Sequence[float]], truth_idx: Sequence[int], bins: int = 10) -> float:
    """Top-label ECE: the mean gap between confidence and accuracy over equal-width confidence bins, weighted by size."""
    n = len(truth_idx)
    if n == 0:
        return 0.0
    totals = [[0, 0.0, 0.0] for _ in range(bins)]  # count, sum of confidence, sum of correct
    for row, idx in zip(probs, truth_idx):
        top = max(range(len(row)), key=lambda k: row[k])
        confidence = float(row[top])
        b = min(bins - 1, int(confidence * bins))
        totals[b][0] += 1
        totals[b][1] += confidence
        totals[b][2] += 1.0 if top == idx else 0.0
    return sum(abs(conf - correct) for count, conf, correct in totals if count) / n
