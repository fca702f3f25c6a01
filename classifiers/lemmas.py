"""The lemma table as the word features read it: two sorted arrays instead of a dict of strings.

spaCy's Dutch lookup table maps some 213,000 word forms to their lemma; as a
``spacy.lookups.Table`` (an ordered dict of Python strings with a Bloom filter)
it costs about 50 MB in every process that holds the model. The features need
only one number per form, the term hash of its normalised lemma
(:func:`lemma_term`), so here a form's spaCy string hash is looked up in a
sorted ``uint64`` array beside an ``int64`` array of those numbers: under 4 MB.

``klachtwacht train`` stores the arrays beside the pipeline (``lemmas/``), and
a model loaded to classify reads them instead of the lemmatizer's table
(:func:`keep`; a model without them builds them and lets the table go,
:func:`compact`). A pipeline being trained keeps its table, which is saved with
the model, and the featuriser builds the arrays from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.linear import folded, term_hash

__all__ = ["LemmaHashes", "lemma_term", "lemma_hashes", "keep", "compact", "NOT_KEPT", "LEMMAS_DIR"]

#: The term hash of a token the word block does not count (spaces, punctuation).
NOT_KEPT = -1
_TABLE = "lemma_lookup"
_ATTRIBUTE = "kw_lemma_hashes"
#: The folder of a model that holds the arrays.
LEMMAS_DIR = "lemmas"


def lemma_term(lemma: str) -> int:
    """The word block's hash of a lemma: lower case, digits folded to 0; :data:`NOT_KEPT` without a letter or digit."""
    norm = folded(lemma)
    return term_hash(norm) if norm.strip() and any(ch.isalnum() for ch in norm) else NOT_KEPT


class LemmaHashes:
    """Lower-cased word form -> :func:`lemma_term` of its lemma (of the form itself when the table does not know it)."""

    def __init__(self, keys: np.ndarray, terms: np.ndarray) -> None:
        self.keys = keys  # sorted spaCy string hashes of the forms
        self.terms = terms

    @classmethod
    def from_table(cls, table: Any) -> LemmaHashes:
        """From a ``spacy.lookups.Table`` (its keys are already spaCy string hashes)."""
        keys = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
        terms = np.fromiter((lemma_term(str(value)) for value in table.values()), dtype=np.int64, count=len(table))
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], terms[order])

    def __len__(self) -> int:
        return len(self.keys)

    def save(self, directory: Path) -> None:
        """Two ``.npy`` files (written the same way every time)."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, values in (("keys", self.keys), ("terms", self.terms)):
            with open(directory / f"{name}.npy", "wb") as handle:
                np.save(handle, values, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> LemmaHashes:
        keys, terms = (np.asarray(np.load(directory / f"{name}.npy", allow_pickle=False)) for name in ("keys", "terms"))
        if keys.dtype != np.uint64 or terms.dtype != np.int64 or keys.shape != terms.shape:
            raise ValueError(f"the lemma arrays in {directory} do not belong together")
        return cls(keys, terms)

    def terms_of(self, forms: Sequence[str]) -> list[int]:
        """The term of each lower-cased form, in one search of the table."""
        from spacy.strings import get_string_id

        if not len(self.keys):
            return [lemma_term(form) for form in forms]
        wanted = np.fromiter((get_string_id(form) for form in forms), dtype=np.uint64, count=len(forms))
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found = (self.keys[at] == wanted).tolist()
        return [term if hit else lemma_term(form) for form, hit, term in zip(forms, found, self.terms[at].tolist())]


def lemma_hashes(nlp: Any) -> LemmaHashes:
    """The lemma hashes of a pipeline: those a loaded model keeps, or built from its lemmatizer's table."""
    kept = getattr(nlp, _ATTRIBUTE, None)
    if isinstance(kept, LemmaHashes):
        return kept
    if "lemmatizer" not in nlp.pipe_names:
        return LemmaHashes(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
    return LemmaHashes.from_table(nlp.get_pipe("lemmatizer").lookups.get_table(_TABLE, {}))


def keep(nlp: Any, hashes: LemmaHashes) -> None:
    """Let a pipeline loaded to classify read its lemmas from ``hashes`` (copies of it keep them too)."""
    setattr(nlp, _ATTRIBUTE, hashes)


def compact(nlp: Any) -> None:
    """Keep the lemma table of a loaded pipeline only as :class:`LemmaHashes` (frees some 50 MB).

    For a model loaded to classify that has no stored arrays: its word
    features read them; ``doc.lemma_`` (which nothing of ours reads) stays the
    form itself. Never for a pipeline that will be saved, whose table is part of the model.
    """
    if isinstance(getattr(nlp, _ATTRIBUTE, None), LemmaHashes) or "lemmatizer" not in nlp.pipe_names:
        return
    keep(nlp, lemma_hashes(nlp))
    lookups = nlp.get_pipe("lemmatizer").lookups
    if lookups.has_table(_TABLE):
        lookups.remove_table(_TABLE)
        _give_back()


def _give_back() -> None:
    """Return the freed table's memory to the system now (glibc keeps freed heap otherwise)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused by this process instead
        pass
