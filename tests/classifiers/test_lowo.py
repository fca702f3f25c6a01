"""Leave-one-writer-out: no writer is judged by a model, a temperature or a threshold that saw its labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from classifiers.corpus import Example
from classifiers.lowo import CATCH, calibrated, fit_temperature_logits, format_lowo, lowo_report, out_of_fold
from classifiers.metrics import expected_calibration_error
from classifiers.records import LABELS


def example(i: int, writer: str, label: str) -> Example:
    return Example(id=f"{writer}-{i}", label=label, subtype="overig", voice="", topic="", lang="nl", sender="", subject="", body=f"tekst {i}", source=f"{writer}.txt")


def corpus(writers: Sequence[str] = ("a", "b", "c"), per_writer: int = 60) -> list[Example]:
    return [example(i, w, LABELS[i % 3]) for w in writers for i in range(per_writer)]


def noisy_logits(examples: Sequence[Example], seed: int = 1, strength: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.normal(0, 1, (len(examples), 3))
    for k, e in enumerate(examples):
        out[k, LABELS.index(e.label)] += strength
    return np.asarray(out)


def test_a_writer_is_scored_by_a_model_trained_without_that_writer() -> None:
    examples = corpus()
    seen: list[tuple[set[str], set[str]]] = []

    def fit_predict(train: Sequence[int], test: Sequence[int]) -> np.ndarray:
        seen.append(({examples[i].writer for i in train}, {examples[i].writer for i in test}))
        return np.zeros((len(test), 3))

    out_of_fold(examples, fit_predict, progress=False)
    assert [test for _, test in seen] == [{"a"}, {"b"}, {"c"}]
    assert all(not (train & test) for train, test in seen)
    assert all(len(train) == 2 for train, _ in seen)


def test_a_writers_operating_points_do_not_depend_on_that_writers_labels() -> None:
    examples = corpus()
    logits = noisy_logits(examples)
    before = {w.writer: (w.register_at, w.review_at) for w in lowo_report("m", examples, logits, [False] * len(examples)).writers}
    relabelled = [example(i, e.writer, "klacht") if e.writer == "a" else e for i, e in enumerate(examples)]
    after = {w.writer: (w.register_at, w.review_at) for w in lowo_report("m", relabelled, logits, [False] * len(examples)).writers}
    assert after["a"] == before["a"]
    assert after["b"] != before["b"] or after["c"] != before["c"]


def test_forced_review_counts_as_caught() -> None:
    examples = corpus()
    logits = noisy_logits(examples, strength=0.0)  # the model knows nothing
    report = lowo_report("m", examples, logits, [True] * len(examples))
    assert all(w.caught == 1.0 and w.review_load == 1.0 for w in report.writers)


def test_a_good_model_catches_the_complaints_and_has_a_worst_writer() -> None:
    examples = corpus(per_writer=150)
    report = lowo_report("m", examples, noisy_logits(examples, strength=4.0), [False] * len(examples))
    assert report.pooled("caught", "klachten") >= CATCH - 0.02
    assert report.worst.macro_f1 == min(w.macro_f1 for w in report.writers)
    text = format_lowo([report, report])
    assert "worst writer" in text and "difference +0.000" in text


def test_the_temperature_sharpens_underconfident_and_softens_overconfident_scores() -> None:
    examples = corpus(per_writer=300)
    truth = [LABELS.index(e.label) for e in examples]
    logits = noisy_logits(examples, strength=3.0)
    assert fit_temperature_logits(logits / 4, truth) < 1.0
    assert fit_temperature_logits(logits * 4, truth) > 1.0
    assert np.allclose(calibrated(logits, 1.0).sum(axis=1), 1.0)


def test_expected_calibration_error_is_zero_when_confidence_matches_accuracy() -> None:
    probs = [[0.75, 0.25, 0.0]] * 4
    assert expected_calibration_error(probs, [0, 0, 0, 1]) == pytest.approx(0.0)
    assert expected_calibration_error(probs, [1, 1, 1, 1]) == pytest.approx(0.75)
    assert expected_calibration_error([], []) == 0.0
