"""A model loaded lazily: its description at once, its pipeline at first use, the same judgments."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from classifiers.classifier import DEFAULT_MODEL_DIR, Classifier
from klachtwacht.errors import ClassifierError, ModelUnavailable, RetryableError

TEXTS = [
    ("Klacht over de balie", "De medewerker aan de balie was onbeschoft en stuurde mij zonder antwoord weg."),
    ("Vraag over het beleid", "Wat is het standpunt van het college over het nieuwe parkeerbeleid in het centrum?"),
    ("Uitnodiging", "Graag nodigen wij u uit voor de opening van ons buurthuis op zaterdag."),
]


def test_a_lazily_loaded_model_holds_no_pipeline_until_it_classifies_and_then_judges_the_same(classifier: Any) -> None:
    lazy = Classifier.load(lazy=True)
    assert lazy._nlp is None and lazy.meta == classifier.meta  # noqa: SLF001
    judged = [lazy.classify(subject, body) for subject, body in TEXTS]
    assert lazy._nlp is not None  # noqa: SLF001
    assert judged == [classifier.classify(subject, body) for subject, body in TEXTS]


def test_a_lazy_model_whose_pipeline_cannot_be_read_makes_the_message_wait(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "pipeline").mkdir(parents=True)
    shutil.copy(DEFAULT_MODEL_DIR / "meta.json", folder / "meta.json")
    lazy = Classifier.load(folder, lazy=True)
    with pytest.raises(ModelUnavailable) as raised:
        lazy.classify(*TEXTS[0])
    assert isinstance(raised.value, RetryableError) and str(folder) in str(raised.value)


def test_a_folder_without_a_model_is_refused_at_once_even_when_lazy(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="klachtwacht train"):
        Classifier.load(tmp_path, lazy=True)
