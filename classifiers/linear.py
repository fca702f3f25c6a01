"""The trained part of the pipeline: hashed n-gram features into linear heads.

Two feature blocks, each TF-IDF weighted (sublinear term frequency) and
normalised to unit length on its own, so a long text does not weigh more than
a short one and neither block can swamp the other:

- ``words``: lemma unigrams and bigrams (the lemmas spaCy's lookup lemmatizer
  put in ``token.norm_``) plus one term per matched cue phrase;
- ``chars``: character 2-5-grams inside word boundaries, which carry spelling
  variants, typos, compounds and Flemish or dialect forms that words miss.

A head is a multinomial logistic regression fitted with scikit-learn; only
numpy arrays are stored (no pickles), so what is shipped is plain data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.cues import CUES

__all__ = ["FeatureMatrix", "LinearHead", "cue_columns", "word_terms", "char_text", "featurise", "WORD_BITS", "CHAR_BITS", "SUBTYPE_BITS"]

WORD_BITS = 18
CHAR_BITS = 19
#: The sub-type head reads the word block folded into this many columns (keeps the model small).
SUBTYPE_BITS = 16
_DIGITS = re.compile(r"\d")


def word_terms(norms: Sequence[str], text: str) -> list[str]:
    """Lemma unigrams and bigrams and one ``__cue<i>`` term per matched cue phrase."""
    words = [n for n in norms if n.strip() and any(ch.isalnum() for ch in n)]
    terms = list(words)
    terms.extend(f"{a} {b}" for a, b in zip(words, words[1:]))
    terms.extend(f"__cue{index}" for index, cue in enumerate(CUES) if cue.pattern.search(text))
    return terms


def char_text(text: str) -> str:
    """The text the character block reads: lower case, digits folded to 0."""
    return _DIGITS.sub("0", text.lower())


def _hashers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(analyzer=lambda terms: terms, n_features=2**WORD_BITS, alternate_sign=False, norm=None)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False, n_features=2**CHAR_BITS, alternate_sign=False, norm=None)
    return words, chars


_HASHERS: tuple[Any, Any] | None = None


@dataclass(frozen=True)
class FeatureMatrix:
    """Raw hashed counts of the two blocks for a list of texts."""

    words: Any  # scipy.sparse.csr_matrix
    chars: Any

    def rows(self, index: Sequence[int]) -> FeatureMatrix:
        return FeatureMatrix(self.words[index], self.chars[index])

    def __len__(self) -> int:
        return int(self.words.shape[0])


def featurise(term_lists: Sequence[Sequence[str]], texts: Sequence[str], *, chars: bool = True) -> FeatureMatrix:
    """Hashed counts for each text (its word terms and, unless ``chars`` is False, its characters)."""
    from scipy.sparse import csr_matrix

    global _HASHERS
    if _HASHERS is None:
        _HASHERS = _hashers()
    word_hasher, char_hasher = _HASHERS
    words = word_hasher.transform(term_lists).tocsr()
    if chars:
        char_counts = char_hasher.transform([char_text(t) for t in texts]).tocsr()
    else:
        char_counts = csr_matrix((len(texts), 2**CHAR_BITS), dtype=np.float64)
    return FeatureMatrix(words, char_counts)


_CUE_COLUMNS: dict[int, int] = {}


def cue_columns() -> dict[int, int]:
    """Cue index -> its column in the word block (and so in a label head's design matrix)."""
    if not _CUE_COLUMNS:
        features = featurise([[f"__cue{index}"] for index in range(len(CUES))], ["" for _ in CUES], chars=False)
        for index in range(len(CUES)):
            _CUE_COLUMNS[index] = int(features.words[index].indices[0])
    return _CUE_COLUMNS


def _idf(counts: Any) -> np.ndarray:
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return np.asarray(np.log((1.0 + n) / (1.0 + df)) + 1.0, dtype=np.float32)


def _weigh(counts: Any, idf: np.ndarray) -> Any:
    """Sublinear tf times idf, each row scaled to unit length."""
    from sklearn.preprocessing import normalize

    x = counts.astype(np.float32, copy=True)
    x.data = 1.0 + np.log(x.data)
    x = x.multiply(idf[np.newaxis, :]).tocsr()
    return normalize(x, norm="l2", copy=False)


def _fold(counts: Any, bits: int) -> Any:
    from scipy.sparse import csr_matrix

    folded = csr_matrix((counts.data, counts.indices % (2**bits), counts.indptr), shape=(counts.shape[0], 2**bits))
    folded.sum_duplicates()
    return folded


@dataclass
class LinearHead:
    """A multinomial logistic regression over the weighted features."""

    classes: list[str]
    word_idf: np.ndarray
    char_idf: np.ndarray | None  # None: the head reads only the (folded) word block
    coef: np.ndarray  # (classes, features), float32
    intercept: np.ndarray
    char_weight: float = 1.0
    fold_bits: int = 0  # >0: word columns folded into 2**fold_bits

    def design(self, features: FeatureMatrix) -> Any:
        from scipy.sparse import hstack

        words = _fold(features.words, self.fold_bits) if self.fold_bits else features.words
        blocks = [_weigh(words, self.word_idf)]
        if self.char_idf is not None:
            blocks.append(_weigh(features.chars, self.char_idf) * self.char_weight)
        return hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def logits(self, features: FeatureMatrix) -> np.ndarray:
        """Raw scores (log-odds up to a constant), one row per text."""
        x = self.design(features)
        return np.asarray(np.asarray(x @ self.coef.T, dtype=np.float64) + self.intercept[np.newaxis, :])

    @classmethod
    def fit(
        cls,
        features: FeatureMatrix,
        labels: Sequence[str],
        *,
        c: float,
        chars: bool = True,
        char_weight: float = 1.0,
        fold_bits: int = 0,
        balanced: bool = True,
        cue_boost: float = 1.0,
        seed: int = 7,
    ) -> LinearHead:
        from sklearn.linear_model import LogisticRegression

        words = _fold(features.words, fold_bits) if fold_bits else features.words
        word_idf = _idf(words)
        if cue_boost != 1.0 and not fold_bits:  # cue phrases weigh as much as a few rare words, no more
            word_idf[list(cue_columns().values())] *= cue_boost
        head = cls(
            classes=sorted(set(labels)),
            word_idf=word_idf,
            char_idf=_idf(features.chars) if chars else None,
            coef=np.zeros(0, dtype=np.float32),
            intercept=np.zeros(0),
            char_weight=char_weight,
            fold_bits=fold_bits,
        )
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced" if balanced else None, random_state=seed)
        model.fit(head.design(features), list(labels))
        assert list(model.classes_) == head.classes
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(head.classes) == 2:  # sklearn stores one row for two classes
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        head.coef, head.intercept = coef, intercept
        return head

    # -- storage: plain arrays and a small JSON, written the same way every time --
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        cfg = {"classes": self.classes, "char_weight": self.char_weight, "fold_bits": self.fold_bits, "chars": self.char_idf is not None}
        (directory / "head.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        arrays = {"word_idf": self.word_idf, "coef": self.coef, "intercept": self.intercept}
        if self.char_idf is not None:
            arrays["char_idf"] = self.char_idf
        for name, array in arrays.items():
            with open(directory / f"{name}.npy", "wb") as handle:
                np.save(handle, array, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> LinearHead:
        cfg = json.loads((directory / "head.json").read_text(encoding="utf-8"))

        def array(name: str) -> np.ndarray:
            return np.asarray(np.load(directory / f"{name}.npy", allow_pickle=False))

        return cls(
            classes=list(cfg["classes"]),
            word_idf=array("word_idf"),
            char_idf=array("char_idf") if cfg["chars"] else None,
            coef=array("coef"),
            intercept=array("intercept"),
            char_weight=float(cfg["char_weight"]),
            fold_bits=int(cfg["fold_bits"]),
        )
