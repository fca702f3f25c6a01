"""Evaluation figures on hand-computed examples; operating points and calibration by their contracts."""

from __future__ import annotations

import math
import random

import pytest

from classifiers.metrics import apply_temperature, choose_thresholds, fit_temperature, format_report, report
from classifiers.records import LABELS

K, B, O = "klacht", "beleidsvraag", "overig"
#               0  1  2  3  4  5  6  7  8  9
TRUTH = [K, K, K, B, B, O, O, O, O, K]
PREDICTED = [K, K, B, B, O, O, O, K, O, K]
P_KLACHT = [0.9, 0.85, 0.5, 0.2, 0.1, 0.05, 0.4, 0.95, 0.1, 0.25]
FORCED = [False, True, False, False, True, False, False, False, False, False]


def test_report_gives_per_class_figures_and_the_confusion_matrix() -> None:
    rep = report("hand", TRUTH, PREDICTED)
    assert rep.n == 10
    assert rep.confusion == {
        K: {K: 3, B: 1, O: 0},
        B: {K: 0, B: 1, O: 1},
        O: {K: 1, B: 0, O: 3},
    }
    # klacht: tp 3, fp 1 (overig 7), fn 1 (klacht 2)
    assert rep.per_class[K] == pytest.approx((0.75, 0.75, 0.75, 4))
    # beleidsvraag: tp 1, fp 1 (klacht 2), fn 1 (beleidsvraag 4)
    assert rep.per_class[B] == pytest.approx((0.5, 0.5, 0.5, 2))
    # overig: tp 3, fp 1 (beleidsvraag 4), fn 1 (overig 7)
    assert rep.per_class[O] == pytest.approx((0.75, 0.75, 0.75, 4))
    assert rep.macro_f1 == pytest.approx(2 / 3)
    assert rep.accuracy == pytest.approx(0.7)
    assert rep.klacht_caught is None and rep.klacht_auto is None and rep.review_share is None and rep.auto_precision is None


def test_report_gives_operating_points_with_forced_review() -> None:
    rep = report("hand", TRUTH, PREDICTED, P_KLACHT, thresholds=(0.8, 0.3), forced_review=FORCED)
    # auto-registered: p >= 0.8 and not forced -> 0 (klacht) and 7 (overig); 1 is forced to review
    # review: 0.3 <= p < 0.8 or forced -> 1, 2, 4, 6
    # klacht 0, 1, 2 caught; klacht 9 (p 0.25) missed
    assert rep.klacht_caught == pytest.approx(3 / 4)
    assert rep.klacht_auto == pytest.approx(1 / 4)
    assert rep.review_share == pytest.approx(4 / 10)
    assert rep.auto_precision == pytest.approx(1 / 2)


def test_report_without_auto_registrations_has_auto_precision_one() -> None:
    rep = report("none", [K, O], [K, O], [0.5, 0.1], thresholds=(0.99, 0.2))
    assert rep.klacht_auto == 0.0
    assert rep.auto_precision == 1.0


def test_a_class_never_predicted_has_precision_zero_not_an_error() -> None:
    rep = report("never", [K, B, O], [K, K, O])
    assert rep.per_class[B] == (0.0, 0.0, 0.0, 1)


def test_report_refuses_lists_of_different_length() -> None:
    with pytest.raises(ValueError):
        report("bad", [K, B], [K])


def test_the_report_renders_as_text_and_as_a_dict() -> None:
    rep = report("hand", TRUTH, PREDICTED, P_KLACHT, thresholds=(0.8, 0.3), forced_review=FORCED)
    text = format_report(rep)
    assert "== hand (10 messages)" in text
    assert "macro-F1 0.667" in text
    data = rep.as_dict()
    assert data["per_class"][K] == {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4}  # type: ignore[index]
    assert data["klacht_caught_at_thresholds"] == pytest.approx(0.75)


# -- choose_thresholds -------------------------------------------------------------


def _caught(truth: list[str], p: list[float], review: float) -> float:
    scores = [s for t, s in zip(truth, p) if t == K]
    return sum(1 for s in scores if s >= review) / len(scores)


def test_choose_thresholds_catches_the_asked_share_on_its_own_data() -> None:
    truth = [K] * 40 + [O] * 30 + [B] * 20
    p = [round(0.02 * i, 4) for i in range(40)] + [round(0.01 * i, 4) for i in range(30)] + [round(0.3 + 0.01 * i, 4) for i in range(20)]
    register, review = choose_thresholds(truth, p, catch=0.75)
    assert _caught(truth, p, review) >= 0.75
    assert register >= review
    # the highest such threshold: the next complaint score up would miss one too many
    assert _caught(truth, p, review + 0.02) < 0.75


def test_choose_thresholds_is_the_highest_threshold_when_the_allowed_misses_are_a_whole_number() -> None:
    truth = [K] * 50
    p = [round(0.02 * i, 4) for i in range(50)]
    _, review = choose_thresholds(truth, p, catch=0.9)
    assert _caught(truth, p, review + 0.02) < 0.9


def test_choose_thresholds_auto_registers_only_at_the_asked_precision() -> None:
    truth = [O, K, K, K, K, O, K, K, K, K]
    p = [0.99, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    register, review = choose_thresholds(truth, p, catch=1.0, auto_precision=0.75)
    # from the top: 0/1 complaints -> precision fails at once, so nothing is auto-registered
    assert register == 1.0
    assert review <= 0.3


def test_choose_thresholds_without_complaints_falls_back() -> None:
    assert choose_thresholds([O, B], [0.2, 0.3]) == (0.9, 0.1)


def _random_cases(seed: int, count: int = 300) -> list[tuple[list[str], list[float], float]]:
    """Varied (truth, p_klacht, catch) cases with at least one complaint, scores in [0, 1] at full float precision."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        n = rng.randint(1, 80)
        truth = [rng.choice(LABELS) for _ in range(n)]
        truth[rng.randrange(n)] = K
        p = [rng.choice((rng.random(), rng.random() ** 4, 1 - rng.random() ** 4, round(rng.random(), 5), 0.0, 1.0)) for _ in range(n)]
        cases.append((truth, p, rng.choice((0.9, 0.95, 0.98, 1.0))))
    return cases


def test_choose_thresholds_register_is_never_below_review() -> None:
    for truth, p, catch in _random_cases(seed=11):
        register, review = choose_thresholds(truth, p, catch=catch)
        assert register >= review, (truth, p, catch)


def test_choose_thresholds_guarantees_the_catch_rate_for_any_scores() -> None:
    for truth, p, catch in _random_cases(seed=12):
        _, review = choose_thresholds(truth, p, catch=catch)
        assert _caught(truth, p, review) >= catch, (truth, p, catch, review)


def test_choose_thresholds_catches_a_complaint_scored_just_above_a_rounding_step() -> None:
    truth, p = [K, K, O], [0.50006, 0.9, 0.1]
    _, review = choose_thresholds(truth, p, catch=1.0)
    assert review <= 0.50006


def test_choose_thresholds_catches_a_complaint_scored_below_one_percent() -> None:
    truth, p = [K, K, O], [0.004, 0.9, 0.1]
    _, review = choose_thresholds(truth, p, catch=1.0)
    assert review <= 0.004


# -- temperature -------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.25, 0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("probs", [[0.6, 0.3, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.98, 0.01, 0.01], [1.0, 0.0, 0.0]])
def test_apply_temperature_gives_a_distribution(probs: list[float], temperature: float) -> None:
    out = apply_temperature(probs, temperature)
    assert len(out) == len(probs)
    assert math.fsum(out) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 <= v <= 1.0 for v in out)
    # temperature never changes the order of the labels
    assert sorted(range(3), key=lambda i: (-probs[i], i)) == sorted(range(3), key=lambda i: (-out[i], i))


def test_apply_temperature_sharpens_below_one_and_softens_above_one() -> None:
    probs = [0.6, 0.3, 0.1]
    assert apply_temperature(probs, 1.0) == pytest.approx(probs)
    assert apply_temperature(probs, 0.5)[0] > 0.6
    assert apply_temperature(probs, 2.0)[0] < 0.6
    assert apply_temperature(probs, 0.5) == pytest.approx([0.36 / 0.46, 0.09 / 0.46, 0.01 / 0.46])


def _calibrated_rows() -> tuple[list[list[float]], list[int]]:
    """Rows whose probabilities match the label frequencies exactly: temperature 1 is right for them."""
    rows: list[list[float]] = []
    truth: list[int] = []
    for probs, counts in (([0.6, 0.3, 0.1], (6, 3, 1)), ([0.2, 0.7, 0.1], (2, 7, 1)), ([0.1, 0.1, 0.8], (1, 1, 8)), ([0.5, 0.25, 0.25], (2, 1, 1))):
        for idx, count in enumerate(counts):
            rows += [probs] * count
            truth += [idx] * count
    return rows, truth


def test_fit_temperature_is_one_for_calibrated_scores() -> None:
    rows, truth = _calibrated_rows()
    assert fit_temperature(rows, truth) == pytest.approx(1.0)


@pytest.mark.parametrize(("distortion", "expected"), [(0.5, 2.0), (0.25, 4.0), (2.0, 0.5), (4.0 / 3.0, 0.75)], ids=["overconfident", "very-overconfident", "underconfident", "slightly-underconfident"])
def test_fit_temperature_recovers_sharpening_and_softening(distortion: float, expected: float) -> None:
    rows, truth = _calibrated_rows()
    distorted = [apply_temperature(row, distortion) for row in rows]
    assert fit_temperature(distorted, truth) == pytest.approx(expected)
