"""Leave-one-writer-out evaluation: train without a writer, judge that writer.

A corpus file is one writer. For every writer a model is trained on all the
others and scores the held-out writer's records; these out-of-fold scores are
what the shipped model's calibration and operating points are chosen on, and
what the per-writer figures below are computed from.

For the figures of writer *w*, the temperature, the klacht label threshold and
the register/review thresholds are chosen on the out-of-fold scores of the
*other* writers only, so no figure of *w* is tuned on *w*'s labels.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.corpus import Example
from classifiers.metrics import choose_label_threshold, choose_thresholds, expected_calibration_error, label_with_threshold, report
from classifiers.records import LABELS

__all__ = ["FitPredict", "operating_points", "WriterFigures", "LowoReport", "out_of_fold", "lowo_report", "format_lowo", "fit_temperature_logits", "calibrated", "CATCH"]

log = logging.getLogger(__name__)

#: Share of complaints that must be registered or sent to review (the issue asks 99%); a little margin on top.
CATCH = 0.993
#: (train indices, test indices) -> logits of the test rows, columns in LABELS order.
FitPredict = Callable[[Sequence[int], Sequence[int]], np.ndarray]


@dataclass(frozen=True)
class WriterFigures:
    writer: str
    n: int
    klachten: int
    macro_f1: float
    klacht_recall: float  # of the label
    caught: float  # complaints registered or sent to review at the operating points
    review_load: float  # share of the writer's mail sent to review
    ece: float
    register_at: float
    review_at: float


@dataclass(frozen=True)
class LowoReport:
    name: str
    writers: list[WriterFigures]

    def mean(self, attr: str) -> float:
        return float(np.mean([getattr(w, attr) for w in self.writers]))

    def pooled(self, attr: str, weight: str = "n") -> float:
        weights = np.array([getattr(w, weight) for w in self.writers], dtype=float)
        return float(np.average([getattr(w, attr) for w in self.writers], weights=weights)) if weights.sum() else 0.0

    @property
    def worst(self) -> WriterFigures:
        return min(self.writers, key=lambda w: w.macro_f1)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "writers": [w.__dict__ for w in self.writers],
            "mean_macro_f1": self.mean("macro_f1"),
            "worst_writer": self.worst.writer,
            "worst_macro_f1": self.worst.macro_f1,
            "klacht_caught": self.pooled("caught", "klachten"),
            "review_load": self.pooled("review_load"),
            "mean_ece": self.mean("ece"),
        }


def out_of_fold(examples: Sequence[Example], fit_predict: FitPredict, name: str = "model", progress: bool = True) -> np.ndarray:
    """Logits for every example from a model trained without its writer."""
    writers = sorted({e.writer for e in examples})
    out = np.zeros((len(examples), len(LABELS)))
    for number, writer in enumerate(writers, start=1):
        test = [i for i, e in enumerate(examples) if e.writer == writer]
        train = [i for i, e in enumerate(examples) if e.writer != writer]
        if progress:
            print(f"  [{name}] writer {number}/{len(writers)}: {writer} ({len(test)} held out, {len(train)} to train on)", file=sys.stderr, flush=True)
        out[test] = fit_predict(train, test)
    return out


def fit_temperature_logits(logits: np.ndarray, truth_idx: Sequence[int]) -> float:
    """The temperature minimising the negative log-likelihood (grid 0.25..6)."""
    idx = np.asarray(truth_idx)
    best_t, best_nll = 1.0, float("inf")
    for t in np.arange(0.25, 6.0001, 0.05):
        probs = calibrated(logits, float(t))
        nll = -float(np.log(np.maximum(probs[np.arange(len(idx)), idx], 1e-12)).sum())
        if nll < best_nll:
            best_t, best_nll = round(float(t), 2), nll
    return best_t


def calibrated(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def operating_points(probs: np.ndarray, truth: Sequence[str], forced: Sequence[bool]) -> tuple[float, float, float]:
    """``(register, review, klacht label threshold)`` chosen on these scores; forced-review mail set aside."""
    keep = [i for i, f in enumerate(forced) if not f]
    p_klacht = [float(probs[i, 0]) for i in keep]
    kept_truth = [truth[i] for i in keep]
    register_at, review_at = choose_thresholds(kept_truth, p_klacht, catch=CATCH)
    scores = [dict(zip(LABELS, map(float, probs[i]))) for i in keep]
    return register_at, review_at, choose_label_threshold(kept_truth, scores)


def lowo_report(name: str, examples: Sequence[Example], logits: np.ndarray, forced: Sequence[bool]) -> LowoReport:
    """Per-writer figures from out-of-fold ``logits`` (operating points from the other writers)."""
    truth = [e.label for e in examples]
    truth_idx = [LABELS.index(t) for t in truth]
    rows = []
    for writer in sorted({e.writer for e in examples}):
        mine = [i for i, e in enumerate(examples) if e.writer == writer]
        others = [i for i, e in enumerate(examples) if e.writer != writer]
        temperature = fit_temperature_logits(logits[others], [truth_idx[i] for i in others])
        probs = calibrated(logits, temperature)
        register_at, review_at, label_at = operating_points(probs[others], [truth[i] for i in others], [forced[i] for i in others])
        scores = [dict(zip(LABELS, map(float, probs[i]))) for i in mine]
        predicted = [label_with_threshold(s, label_at) for s in scores]
        rep = report(writer, [truth[i] for i in mine], predicted, [s["klacht"] for s in scores], (register_at, review_at), [forced[i] for i in mine])
        ece = expected_calibration_error(probs[mine].tolist(), [truth_idx[i] for i in mine])
        rows.append(
            WriterFigures(
                writer=writer,
                n=len(mine),
                klachten=rep.per_class["klacht"][3],
                macro_f1=rep.macro_f1,
                klacht_recall=rep.per_class["klacht"][1],
                caught=rep.klacht_caught if rep.klacht_caught is not None else 0.0,
                review_load=rep.review_share if rep.review_share is not None else 0.0,
                ece=ece,
                register_at=register_at,
                review_at=review_at,
            )
        )
    return LowoReport(name, rows)


def format_lowo(reports: Sequence[LowoReport]) -> str:
    """One table per report and a summary line comparing them."""
    lines = []
    for rep in reports:
        lines.append(f"== leave-one-writer-out: {rep.name} ({len(rep.writers)} writers)")
        lines.append(f"{'held-out writer':22}{'n':>6}{'macro-F1':>10}{'klacht-rec':>11}{'caught':>8}{'review':>8}{'ECE':>7}{'register':>10}{'review-at':>10}")
        for w in rep.writers:
            lines.append(
                f"{w.writer:22}{w.n:6d}{w.macro_f1:10.3f}{w.klacht_recall:11.3f}{w.caught:8.3f}{w.review_load:8.3f}{w.ece:7.3f}{w.register_at:10.3f}{w.review_at:10.3f}"
            )
        lines.append(
            f"{'mean over writers':22}{'':6}{rep.mean('macro_f1'):10.3f}{rep.mean('klacht_recall'):11.3f}{rep.mean('caught'):8.3f}{rep.mean('review_load'):8.3f}{rep.mean('ece'):7.3f}"
        )
        lines.append(
            f"pooled: klacht registered or to review {rep.pooled('caught', 'klachten'):.3f}, review load {rep.pooled('review_load'):.3f} of all mail; "
            f"worst writer {rep.worst.writer} (macro-F1 {rep.worst.macro_f1:.3f})"
        )
        lines.append("")
    if len(reports) >= 2:
        a, b = reports[0], reports[1]
        lines.append(f"mean macro-F1: {a.name} {a.mean('macro_f1'):.3f} vs {b.name} {b.mean('macro_f1'):.3f} (difference {a.mean('macro_f1') - b.mean('macro_f1'):+.3f})")
    return "\n".join(lines)
