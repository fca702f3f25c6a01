"""``klachtwacht evaluate``: the shipped model and the baseline on the fixed split and leave-one-writer-out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.baseline import Baseline
from classifiers.classifier import DEFAULT_MODEL_DIR, Classifier, model_input
from classifiers.corpus import Example, load_corpus, split
from classifiers.lowo import FitPredict, LowoReport, lowo_report, out_of_fold
from classifiers.metrics import Report, choose_thresholds, report
from classifiers.records import LABELS

__all__ = ["evaluate", "evaluate_lowo", "evaluate_examples", "baseline_fit_predict"]


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


def evaluate_examples(model: Classifier, examples: Sequence[Example], name: str) -> Report:
    """The model's figures on ``examples`` as they are (people's decisions exported by ``klachtwacht reviews export``).

    Accuracy is the agreement with the people's labels; the operating points
    are the model's own, so ``auto_precision`` is the precision the register
    threshold would have had on these messages.
    """
    truth = [e.label for e in examples]
    judged = model.classify_many((e.subject, e.body, (), 0) for e in examples)
    thresholds = (model.meta.register_threshold, model.meta.review_threshold)
    return report(name, truth, [c.label for c in judged], [c.scores["klacht"] for c in judged], thresholds, [c.needs_review for c in judged])


def baseline_fit_predict(examples: Sequence[Example]) -> FitPredict:
    """The (train, test) -> logits function of the baseline, for :func:`out_of_fold`."""
    texts = [model_input(e.subject, e.body).text for e in examples]

    def fit_predict(train: Sequence[int], test: Sequence[int]) -> np.ndarray:
        model = Baseline().fit([examples[i] for i in train])
        rows = model.predict([texts[i] for i in test])
        return np.asarray(np.log(np.maximum(np.array([[row[label] for label in LABELS] for row in rows]), 1e-12)))

    return fit_predict


def evaluate_lowo(model: Classifier | None = None, model_dir: Path | None = None, *, baseline: bool = True, progress: bool = True) -> list[LowoReport]:
    """Leave-one-writer-out reports for the model's recipe and (optionally) the baseline, on the same records.

    The model's out-of-fold scores are those stored by ``klachtwacht train`` when
    they belong to the current corpus; otherwise they are computed again.
    """
    from classifiers.pipeline import build_nlp
    from classifiers.train import MODEL_NAME, OOF_FILE, Recipe, corpus_digest, model_fit_predict, prepare_corpus

    examples = load_corpus()
    data = prepare_corpus(build_nlp(), examples)
    recipe = Recipe()
    stored = (model_dir or DEFAULT_MODEL_DIR) / OOF_FILE
    if model is not None and model.meta.corpus_sha256 == corpus_digest() and stored.exists():
        oof = np.load(stored, allow_pickle=False).astype(np.float64)
        name = f"{model.meta.model_id} (scores stored by train)"
    else:
        oof = out_of_fold(examples, model_fit_predict(data, recipe), "model", progress)
        name = f"{MODEL_NAME} recipe (C={recipe.c})"
    reports = [lowo_report(name, examples, oof, data.forced)]
    if baseline:
        oof = out_of_fold(examples, baseline_fit_predict(examples), "baseline", progress)
        reports.append(lowo_report(Baseline.name, examples, oof, data.forced))
    return reports
