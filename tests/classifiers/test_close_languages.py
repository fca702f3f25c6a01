"""Afrikaans, Frisian, Limburgish and Flemish dialect go to review with a Dutch reason; Dutch (also Belgian) and English are classified."""

from __future__ import annotations

from typing import Any

import pytest
from test_language import CLOSE_VARIETIES, STAYS_DUTCH

NAMES = {"af": "Afrikaans", "fy": "Fries", "li": "Limburgs", "vls": "Vlaams dialect"}


@pytest.mark.parametrize(("language", "text"), CLOSE_VARIETIES.items(), ids=CLOSE_VARIETIES.keys())
def test_a_complaint_in_a_language_close_to_dutch_goes_to_review_with_a_dutch_reason(classifier: Any, language: str, text: str) -> None:
    result = classifier.classify("Klacht", text)
    assert result.needs_review
    assert result.language == language
    assert any(f"andere taal ({NAMES[language]})" in reason and "ter beoordeling" in reason for reason in result.reasons), result.reasons


@pytest.mark.parametrize("text", STAYS_DUTCH.values(), ids=STAYS_DUTCH.keys())
def test_a_complaint_in_standard_or_belgian_dutch_is_classified_by_the_model(classifier: Any, text: str) -> None:
    result = classifier.classify("Mijn aanvraag", text)
    assert not result.needs_review
    assert result.language == "nl"
    assert result.scores["klacht"] >= classifier.meta.review_threshold


def test_an_english_complaint_is_classified_by_the_model(classifier: Any) -> None:
    text = "Dear wethouder, I have called the municipality four times about my parking permit and nobody ever called me back. This is not acceptable."
    result = classifier.classify("Parking permit", text)
    assert not result.needs_review
    assert result.language == "en"
    assert result.scores["klacht"] >= classifier.meta.review_threshold
