"""The trained part of the pipeline: hashed n-gram features into linear heads.

Two feature blocks, each TF-IDF weighted (sublinear term frequency) and
normalised to unit length on its own, so a long text does not weigh more than
a short one and neither block can swamp the other:

- ``words``: lemma unigrams and bigrams (from spaCy's Dutch lookup table) plus
  one term per matched cue phrase;
- ``chars``: character 2-5-grams inside word boundaries, which carry spelling
  variants, typos, compounds and Flemish or dialect forms that words miss.

How texts become these counts is :mod:`classifiers.features`.

A head is a multinomial logistic regression fitted with scikit-learn; only
numpy arrays are stored (no pickles), so what is shipped is plain data.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.cues import CUES

__all__ = ["FeatureMatrix", "LinearHead", "Weighted", "cue_columns", "folded", "term_hash", "WORD_BITS", "CHAR_BITS", "SUBTYPE_BITS"]

WORD_BITS = 18
CHAR_BITS = 19
#: The sub-type head reads the word block folded into this many columns (keeps the model small).
SUBTYPE_BITS = 16


_DIGITS = re.compile(r"\d")


def folded(text: str) -> str:
    """Lower case with every digit folded to 0: how both blocks read text (the character n-grams and each lemma)."""
    return _DIGITS.sub("0", text.lower())


def term_hash(term: str) -> int:
    """The 32-bit hash of a term: CRC-32 of its UTF-8 bytes (fast, the same in every process, no scikit-learn at run time)."""
    return zlib.crc32(term.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class FeatureMatrix:
    """Raw hashed counts of the two blocks for a list of texts."""

    words: Any  # scipy.sparse.csr_matrix
    chars: Any

    def rows(self, index: Sequence[int]) -> FeatureMatrix:
        return FeatureMatrix(self.words[index], self.chars[index])

    def __len__(self) -> int:
        return int(self.words.shape[0])


_CUE_COLUMNS: dict[int, int] = {}


def cue_columns() -> dict[int, int]:
    """Cue index -> its column in the word block (and so in a label head's design matrix)."""
    if not _CUE_COLUMNS:
        for index in range(len(CUES)):
            _CUE_COLUMNS[index] = term_hash(f"__cue{index}") % 2**WORD_BITS
    return _CUE_COLUMNS


def _idf(counts: Any) -> np.ndarray:
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return np.asarray(np.log((1.0 + n) / (1.0 + df)) + 1.0, dtype=np.float32)


@dataclass(frozen=True)
class Weighted:
    """A block as a head reads it: sublinear tf times idf, each row scaled to unit length (CSR arrays)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray  # float32
    width: int

    def matrix(self) -> Any:
        from scipy.sparse import csr_matrix

        return csr_matrix((self.values, self.indices, self.indptr), shape=(len(self.indptr) - 1, self.width))

    def scores(self, coef: np.ndarray) -> np.ndarray:
        """``matrix() @ coef.T`` (rows x classes) without building the matrix."""
        n, stored = len(self.indptr) - 1, len(self.indices)
        if not stored:
            return np.zeros((n, len(coef)))
        contributions = (coef[:, self.indices] * self.values).astype(np.float64)
        starts = self.indptr[:-1]
        sums = np.add.reduceat(contributions, np.minimum(starts, stored - 1), axis=1).T
        sums[starts == self.indptr[1:]] = 0.0  # reduceat gives an empty row the next value, not 0
        return np.asarray(sums)


def _weigh(counts: Any, idf: np.ndarray) -> Weighted:
    """Sublinear tf times idf, each row scaled to unit length; ``counts`` is CSR without duplicate entries."""
    data = (1.0 + np.log(counts.data.astype(np.float32))) * idf[counts.indices]
    lengths = np.diff(counts.indptr)
    n = counts.shape[0]
    norms = np.sqrt(np.bincount(np.repeat(np.arange(n), lengths), weights=data.astype(np.float64) ** 2, minlength=n))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
    return Weighted(counts.indptr, counts.indices, np.asarray(data * np.repeat(scale, lengths), dtype=np.float32), counts.shape[1])


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
        """The weighted blocks side by side, as a sparse matrix (what the regression is fitted on)."""
        from scipy.sparse import hstack

        blocks = [self.weighted_words(features).matrix()]
        if self.char_idf is not None:
            blocks.append(_weigh(features.chars, self.char_idf).matrix() * self.char_weight)
        return hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    def weighted_words(self, features: FeatureMatrix) -> Weighted:
        """The word block as the head reads it (folded if the head folds, weighted, unit length)."""
        return _weigh(_fold(features.words, self.fold_bits) if self.fold_bits else features.words, self.word_idf)

    def logits(self, features: FeatureMatrix, words: Weighted | None = None) -> np.ndarray:
        """Raw scores (log-odds up to a constant), one row per text; ``words``: :meth:`weighted_words`, if at hand."""
        words = self.weighted_words(features) if words is None else words
        scores = words.scores(self.coef[:, : words.width])
        if self.char_idf is not None:
            scores += self.char_weight * _weigh(features.chars, self.char_idf).scores(self.coef[:, words.width :])
        return np.asarray(scores + self.intercept[np.newaxis, :])

    def cue_weights(self, words: Weighted, labels: Sequence[str]) -> list[dict[int, list[float]]]:
        """For each row of :meth:`weighted_words`: cue index -> what its feature added to each label's score (``labels`` order)."""
        cue_of = {column: index for index, column in cue_columns().items()}
        order = [self.classes.index(label) for label in labels]
        out: list[dict[int, list[float]]] = [{} for _ in range(len(words.indptr) - 1)]
        hits = np.flatnonzero(np.isin(words.indices, np.fromiter(cue_of, dtype=words.indices.dtype)))
        rows = np.searchsorted(words.indptr, hits, side="right") - 1
        for at, row in zip(hits.tolist(), rows.tolist()):
            column, value = int(words.indices[at]), float(words.values[at])
            if value:
                out[row][cue_of[column]] = [value * float(self.coef[k, column]) for k in order]
        return out

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
