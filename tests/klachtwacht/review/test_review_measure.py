"""Precision and recall per label with 95% Wilson intervals, from (predicted, final) pairs."""

from __future__ import annotations

import pytest

from klachtwacht.review.measure import quality, wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        pytest.param(81, 263, 0.2553, 0.3662, id="newcombe-1998-example"),
        pytest.param(8, 10, 0.4902, 0.9433, id="eight-of-ten"),
        pytest.param(0, 10, 0.0, 0.2775, id="none-of-ten"),
        pytest.param(10, 10, 0.7225, 1.0, id="all-of-ten"),
        pytest.param(50, 100, 0.4038, 0.5962, id="half"),
    ],
)
def test_wilson_intervals_match_the_published_values(k: int, n: int, low: float, high: float) -> None:
    assert wilson(k, n) == pytest.approx((low, high), abs=5e-5)


def test_a_wilson_interval_without_cases_says_nothing_and_bad_counts_are_refused() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_quality_counts_precision_and_recall_per_label() -> None:
    pairs = [("klacht", "klacht")] * 8 + [("klacht", "overig")] * 2 + [("overig", "klacht")] * 2 + [("beleidsvraag", "beleidsvraag")]
    q = quality(pairs)
    klacht = q["klacht"]
    assert (klacht.predicted, klacht.actual, klacht.correct) == (10, 10, 8)
    assert klacht.precision == pytest.approx(0.8) and klacht.recall == pytest.approx(0.8) and klacht.f1 == pytest.approx(0.8)
    assert klacht.precision_interval == pytest.approx((0.4902, 0.9433), abs=5e-5)
    overig = q["overig"]
    assert (overig.predicted, overig.actual, overig.correct, overig.precision, overig.recall) == (2, 2, 0, 0.0, 0.0)
    assert q["beleidsvraag"].precision == 1.0


def test_a_label_never_predicted_has_no_precision_rather_than_zero() -> None:
    q = quality([("klacht", "overig")])
    assert q["overig"].precision is None and q["overig"].recall == 0.0 and q["beleidsvraag"].recall is None
    with pytest.raises(ValueError):
        quality([("klacht", "vraag")])
