"""``klachtwacht evaluate``: the shipped model and the baseline on the same split."""

from __future__ import annotations

from classifiers.baseline import Baseline
from classifiers.classifier import Classifier, model_input
from classifiers.corpus import Example, load_corpus, split
from classifiers.metrics import Report, choose_thresholds, report
from classifiers.records import LABELS

__all__ = ["evaluate"]


def _argmax(scores: dict[str, float]) -> str:
    return max(LABELS, key=lambda label: scores[label])


def evaluate(model: Classifier, split_name: str = "test") -> list[Report]:
    """Reports for the model and the baseline on ``split_name`` (thresholds from dev)."""
    parts = split(load_corpus())
    examples: list[Example] = parts[split_name]
    truth = [e.label for e in examples]
    judged = model.classify_many((e.subject, e.body, (), 0) for e in examples)
    p_klacht = [c.scores["klacht"] for c in judged]
    forced = [c.needs_review for c in judged]
    thresholds = (model.meta.register_threshold, model.meta.review_threshold)
    reports = [
        report(f"{model.meta.model_id} on {split_name}", truth, [c.label for c in judged], p_klacht, thresholds, forced),
    ]
    baseline = Baseline().fit(parts["train"])
    dev_scores = baseline.predict([model_input(e.subject, e.body).text for e in parts["dev"]])
    base_thresholds = choose_thresholds([e.label for e in parts["dev"]], [s["klacht"] for s in dev_scores])
    scores = baseline.predict([model_input(e.subject, e.body).text for e in examples])
    reports.append(
        report(f"{Baseline.name} on {split_name}", truth, [_argmax(s) for s in scores], [s["klacht"] for s in scores], base_thresholds)
    )
    return reports
