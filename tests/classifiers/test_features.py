"""The featuriser: one tokenisation per text, segments read from their spans, caches that do not change results."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers import features as features_module
from classifiers.features import Featuriser, char_text
from classifiers.linear import CHAR_BITS, term_hash
from classifiers.pipeline import build_nlp
from classifiers.segments import segments

LETTER = (
    "Op 3 maart heb ik de gemeente gebeld over de traplift van mijn moeder. Niemand belde terug en ik heb al vier keer gebeld. "
    "De medewerker aan de balie was onbeschoft en zei dat ik maar moest wachten.\n\n"
    "Daarnaast wil ik weten waarom de gemeente de bibliotheek in ons dorp sluit, want dat is een slecht plan voor de ouderen. "
    "Wat is uw standpunt over de voorzieningen in de kleine kernen en wat gaat het college doen?"
)


@pytest.fixture(scope="module")
def featuriser() -> Featuriser:
    return Featuriser(build_nlp())


def _dense(matrix: object, row: int) -> np.ndarray:
    return np.asarray(matrix[row].toarray()).ravel()  # type: ignore[index]


def test_each_segment_counts_what_the_same_passage_counts_on_its_own(featuriser: Featuriser) -> None:
    whole = featuriser([LETTER])
    first, last = whole.spans[0]
    assert last - first == len(segments(LETTER)) >= 2
    for k, passage in enumerate(segments(LETTER)):
        alone = featuriser([passage], with_segments=False).features
        assert np.array_equal(_dense(whole.segments.words, first + k), _dense(alone.words, 0))
        assert np.array_equal(_dense(whole.segments.chars, first + k), _dense(alone.chars, 0))


def test_the_character_block_counts_the_char_wb_ngrams_of_the_text(featuriser: Featuriser) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    analyse = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False).build_analyzer()
    for text in (LETTER, "a ab abc één x", "Zo'n 3 (drie) keer!"):
        expected = np.zeros(2**CHAR_BITS)
        for gram in analyse(char_text(text)):
            expected[term_hash(gram) % 2**CHAR_BITS] += 1
        assert np.array_equal(_dense(featuriser([text], with_segments=False).features.chars, 0), expected), text


def test_a_full_cache_starts_afresh_without_changing_any_count(featuriser: Featuriser, monkeypatch: pytest.MonkeyPatch) -> None:
    before = featuriser([LETTER, "Korte vraag over de parkeervergunning."])
    monkeypatch.setattr(features_module, "CACHE_LIMIT", 3)
    small = Featuriser(featuriser.nlp)
    small(["Een heel ander bericht over de afvalinzameling in de wijk, met andere woorden dan de brief."])
    after = small([LETTER, "Korte vraag over de parkeervergunning."])
    distinct = {w for text in (LETTER, "Korte vraag over de parkeervergunning.") for w in char_text(text).split()}
    assert len(small._char_ids) == len(distinct)  # emptied before the batch: only this batch's words are kept
    assert (before.features.words != after.features.words).nnz == 0
    assert (before.features.chars != after.features.chars).nnz == 0
    assert (before.segments.words != after.segments.words).nnz == 0


def test_spaces_and_punctuation_are_no_word_features(featuriser: Featuriser) -> None:
    plain = featuriser(["de balie was dicht"], with_segments=False).features.words
    noisy = featuriser(["de   balie ,  was ... dicht !"], with_segments=False).features.words
    assert (plain != noisy).nnz == 0
