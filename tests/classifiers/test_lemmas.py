"""The lemma table as sorted arrays: the same word features as spaCy's table, at a fraction of the memory."""

from __future__ import annotations

import copy

import pytest

from classifiers.features import Featuriser
from classifiers.lemmas import NOT_KEPT, compact, lemma_hashes, lemma_term
from classifiers.linear import term_hash
from classifiers.pipeline import build_nlp

TEXTS = [
    "Mijn buren liepen gisteren langs de huizen en zagen dat de klachten over 12 containers niet waren behandeld.",
    "Wethouder, uw beslissingen van 2025 zijn onbegrijpelijk; wij hebben 3 keer gebeld!",
    "  ...  ",
]


@pytest.fixture(scope="module")
def compacted() -> object:
    nlp = build_nlp()
    compact(nlp)
    return nlp


def test_a_known_form_gives_its_lemma_and_an_unknown_form_itself() -> None:
    hashes = lemma_hashes(build_nlp())
    assert hashes.terms_of(["liep", "klachten", "huizen", "xyzzyplof", "...", "2025"]) == [
        term_hash("lopen"),
        term_hash("klacht"),
        term_hash("huizen"),
        term_hash("xyzzyplof"),
        NOT_KEPT,
        term_hash("0000"),
    ]


def test_digits_fold_and_a_lemma_without_letters_or_digits_is_not_kept() -> None:
    assert lemma_term("Nr12") == term_hash("nr00")
    assert lemma_term("  ") == lemma_term("!?") == NOT_KEPT


def test_a_compacted_pipeline_reads_the_same_word_features_as_the_full_table(compacted: object) -> None:
    full = Featuriser(build_nlp())(TEXTS)
    small = Featuriser(compacted)(TEXTS)
    assert full.features.words.nnz > 0
    assert (full.features.words != small.features.words).nnz == 0
    assert (full.segments.words != small.segments.words).nnz == 0


def test_compacting_lets_the_table_go_and_a_copy_keeps_the_lemmas(compacted: object) -> None:
    lemmatizer = compacted.get_pipe("lemmatizer")  # type: ignore[attr-defined]
    assert not lemmatizer.lookups.has_table("lemma_lookup")
    assert len(lemma_hashes(compacted)) > 100_000
    copied = copy.deepcopy(compacted)
    assert lemma_hashes(copied).terms_of(["liep"]) == [term_hash("lopen")]


def test_a_pipeline_being_trained_keeps_its_table_for_the_saved_model() -> None:
    nlp = build_nlp()
    Featuriser(nlp)(TEXTS)
    assert nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup").get("liep") == "lopen"


def test_the_stored_arrays_load_back_and_a_loaded_model_reads_the_same_words_as_the_full_table(tmp_path: object, classifier: object) -> None:
    from pathlib import Path

    from classifiers.lemmas import LemmaHashes

    hashes = lemma_hashes(build_nlp())
    hashes.save(Path(str(tmp_path)) / "lemmas")
    again = LemmaHashes.load(Path(str(tmp_path)) / "lemmas")
    assert (again.keys == hashes.keys).all() and (again.terms == hashes.terms).all()
    loaded = classifier.nlp  # type: ignore[attr-defined]
    assert "lemmatizer" not in loaded.pipe_names  # the shipped model's arrays stand in for spaCy's table
    full = Featuriser(build_nlp())(TEXTS)
    assert (full.features.words != Featuriser(loaded)(TEXTS).features.words).nnz == 0


def test_arrays_that_do_not_belong_together_are_refused(tmp_path: object) -> None:
    from pathlib import Path

    import numpy as np

    from classifiers.lemmas import LemmaHashes

    folder = Path(str(tmp_path))
    np.save(folder / "keys.npy", np.zeros(3, dtype=np.uint64))
    np.save(folder / "terms.npy", np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="do not belong together"):
        LemmaHashes.load(folder)
