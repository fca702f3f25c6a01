"""From texts to hashed feature counts: each text and each of its segments, tokenised once.

The two feature blocks (see :mod:`classifiers.linear`):

- ``words``: one column per lemma unigram and bigram, and one per matched cue
  phrase. A token's lemma (spaCy's Dutch lookup table, lower-cased, digits
  folded to 0) depends on its text alone, so it is looked up once per distinct
  token and kept;
- ``chars``: character 2-5-grams inside each whitespace-separated word (what
  scikit-learn calls ``char_wb``), again computed once per distinct word and
  kept, so a text's row is the sum of its words' rows.

Terms are hashed with CRC-32 (:func:`classifiers.linear.term_hash`), so
classifying needs no scikit-learn (it is needed to train).

A segment (:func:`classifiers.segments.segment_spans`) is a span of the text:
its word features come from the tokens inside the span, its cue features from
the cue matches inside it, so a long message is tokenised once, not once for
itself and again for its passages. Both caches are bounded; when one is full it
starts afresh, so memory stays flat however much mail is read.
"""

from __future__ import annotations

import threading
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifiers.cues import CUES
from classifiers.lemmas import NOT_KEPT, lemma_hashes
from classifiers.linear import CHAR_BITS, WORD_BITS, FeatureMatrix, cue_columns, folded, term_hash
from classifiers.segments import segment_spans

__all__ = ["Featurised", "Featuriser", "char_text", "char_ngrams"]

#: Distinct tokens and words kept at most (some 40 MB with their character rows) before a cache starts afresh.
CACHE_LIMIT = 150_000


def char_text(text: str) -> str:
    """The text the character block reads: lower case, digits folded to 0."""
    return folded(text)


@dataclass(frozen=True)
class Featurised:
    """The counts of each text, and of each text's segments."""

    features: FeatureMatrix  # one row per text
    segments: FeatureMatrix  # the segments of all texts, text after text
    spans: list[tuple[int, int]]  # text -> its rows in ``segments``
    segment_spans: list[list[tuple[int, int]]]  # text -> its segments' character offsets


class Featuriser:
    """Counts for texts, with the lemma table of a pipeline; reuse one instance (its caches are its speed).

    Thread-safe: one batch at a time holds the caches.
    """

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp
        self._lock = threading.Lock()
        self._lemmas = lemma_hashes(nlp)
        self._token_hash: dict[int, int] = {}  # spaCy orth id -> hash of its lemma, or NOT_KEPT
        self._char_ids: dict[str, int] = {}  # word -> its row in the char rows below
        self._chars_kept = _CharRows()

    # -- the whole batch ---------------------------------------------------------------
    def __call__(self, texts: Sequence[str], *, with_segments: bool = True, chars: bool = True) -> Featurised:
        with self._lock:
            return self._featurise(texts, with_segments, chars)

    def _featurise(self, texts: Sequence[str], with_segments: bool, chars: bool) -> Featurised:
        from spacy.attrs import IDX, ORTH

        if len(self._token_hash) > CACHE_LIMIT:  # full: start afresh, before the batch, so the batch finds its own words
            self._token_hash.clear()
        if len(self._char_ids) > CACHE_LIMIT:
            self._char_ids.clear()
            self._chars_kept = _CharRows()
        spans_of = [segment_spans(text) if with_segments else [] for text in texts]
        word_rows: list[np.ndarray] = []
        segment_word_rows: list[np.ndarray] = []
        char_words: list[list[str]] = []
        segment_char_words: list[list[str]] = []
        for text, doc, spans in zip(texts, self.nlp.tokenizer.pipe(texts, batch_size=256), spans_of):
            table = doc.to_array([ORTH, IDX]).reshape(-1, 2)
            hashes, offsets = self._hashes(table[:, 0]), table[:, 1].astype(np.int64)
            matches = _cue_matches(text)
            word_rows.append(_word_columns(hashes, _cues_inside(matches, 0, len(text))))
            if chars:
                char_words.append(char_text(text).split())
            for start, end in spans:
                first, last = np.searchsorted(offsets, start), np.searchsorted(offsets, end)
                segment_word_rows.append(_word_columns(hashes[first:last], _cues_inside(matches, start, end)))
                if chars:
                    segment_char_words.append(char_text(text[start:end]).split())
        rows, at = [], 0
        for spans in spans_of:
            rows.append((at, at + len(spans)))
            at += len(spans)
        return Featurised(
            features=FeatureMatrix(_count_matrix(word_rows, 2**WORD_BITS), self._chars(char_words, len(texts), chars)),
            segments=FeatureMatrix(_count_matrix(segment_word_rows, 2**WORD_BITS), self._chars(segment_char_words, at, chars)),
            spans=rows,
            segment_spans=spans_of,
        )

    # -- words -------------------------------------------------------------------------
    def _hashes(self, orths: np.ndarray) -> np.ndarray:
        """The lemma hash of each token (``NOT_KEPT`` for spaces and punctuation)."""
        cache = self._token_hash
        unique, inverse = np.unique(orths, return_inverse=True)
        wanted = unique.tolist()
        missing = [orth for orth in wanted if orth not in cache]
        if missing:
            strings = self.nlp.vocab.strings
            cache.update(zip(missing, self._lemmas.terms_of([strings[orth].lower() for orth in missing])))
        values = np.fromiter((cache[orth] for orth in wanted), dtype=np.int64, count=len(wanted))
        return values[inverse.reshape(-1)]

    # -- characters --------------------------------------------------------------------
    def _chars(self, word_lists: list[list[str]], n: int, chars: bool) -> Any:
        from scipy.sparse import csr_matrix

        if not chars or not n:
            return csr_matrix((n, 2**CHAR_BITS), dtype=np.float64)
        ids, kept = self._char_ids, self._chars_kept
        for word in set().union(*word_lists).difference(ids):
            ids[word] = kept.add(Counter(term_hash(gram) % 2**CHAR_BITS for gram in char_ngrams(word)))
        rows: list[int] = []  # each text's distinct words, in order, as cache rows
        times: list[int] = []  # how often each occurs in its text
        per_text = np.zeros(n, dtype=np.int64)
        for k, words in enumerate(word_lists):
            counted = Counter(words)
            rows.extend(ids[w] for w in counted)
            times.extend(counted.values())
            per_text[k] = len(counted)
        if not rows:
            return csr_matrix((n, 2**CHAR_BITS), dtype=np.float64)
        columns, counts, lengths = kept.gather(np.array(rows, dtype=np.int64))
        weights = counts * np.repeat(np.array(times, dtype=np.int64), lengths)
        return _summed(np.repeat(np.repeat(np.arange(n), per_text), lengths), columns, weights, n, 2**CHAR_BITS)


class _CharRows:
    """The character rows of cached words, packed: one growing buffer of columns and one of counts, and where each row is.

    A word costs 8 bytes an n-gram and two offsets, not two numpy arrays of its own.
    """

    def __init__(self) -> None:
        self._columns = array("i")
        self._counts = array("I")
        self._starts = array("q")
        self._lengths = array("q")

    def add(self, row: Counter[int]) -> int:
        """Keep one word's row (column -> count); return its number."""
        self._starts.append(len(self._columns))
        self._lengths.append(len(row))
        self._columns.extend(row.keys())
        self._counts.extend(row.values())
        return len(self._starts) - 1

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The columns and counts of ``rows`` one after the other, and each row's length."""
        starts = np.frombuffer(self._starts, dtype=np.int64)[rows]
        lengths = np.frombuffer(self._lengths, dtype=np.int64)[rows]
        ends = np.cumsum(lengths)
        at = np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if len(ends) else 0)
        return np.frombuffer(self._columns, dtype=np.int32)[at], np.frombuffer(self._counts, dtype=np.uint32)[at].astype(np.int64), lengths


def char_ngrams(word: str) -> list[str]:
    """The character 2-5-grams of one word padded with a space each side (what scikit-learn calls ``char_wb``)."""
    padded = f" {word} "
    out = []
    for n in range(2, 6):
        if n >= len(padded):
            out.append(padded)
            break
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def _cue_matches(text: str) -> list[tuple[int, list[tuple[int, int]]]]:
    """Every cue that matches ``text``, with where each of its matches is."""
    out = []
    for index, cue in enumerate(CUES):
        found = [(m.start(), m.end()) for m in cue.pattern.finditer(text)]
        if found:
            out.append((index, found))
    return out


def _cues_inside(matches: list[tuple[int, list[tuple[int, int]]]], start: int, end: int) -> list[int]:
    """The cues with a match wholly inside ``[start, end)``."""
    return [index for index, found in matches if any(start <= s and e <= end for s, e in found)]


def _word_columns(hashes: np.ndarray, cues: list[int]) -> np.ndarray:
    """Columns of the word block for one text: its lemma unigrams and bigrams and its cues."""
    kept = hashes[hashes != NOT_KEPT].astype(np.uint64)
    size = np.uint64(2**WORD_BITS)
    unigrams = kept % size
    bigrams = _mix(kept[:-1], kept[1:]) % size if len(kept) > 1 else np.zeros(0, dtype=np.uint64)
    columns = cue_columns()
    return np.concatenate([unigrams, bigrams, np.array([columns[i] for i in cues], dtype=np.uint64)]).astype(np.int64)


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A 64-bit mix of two 32-bit hashes (splitmix64's finaliser), the hash of the bigram (a, b)."""
    with np.errstate(over="ignore"):
        z = (a << np.uint64(32)) | b
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)))


def _count_matrix(rows: list[np.ndarray], width: int) -> Any:
    """A CSR matrix of counts: row i counts the columns listed in ``rows[i]``."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    columns = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    return _summed(np.repeat(np.arange(len(rows)), lengths), columns, None, len(rows), width)


def _summed(rows: np.ndarray, columns: np.ndarray, weights: np.ndarray | None, n: int, width: int) -> Any:
    """The CSR matrix of (row, column, weight) entries, entries at the same place summed (weight 1 when None)."""
    from scipy.sparse import csr_matrix

    data = np.ones(len(rows), dtype=np.float64) if weights is None else weights.astype(np.float64)
    # from (row, column) entries scipy sums the duplicates in one linear pass (no sort), into canonical CSR
    matrix = csr_matrix((data, (rows.astype(np.int64), columns.astype(np.int64))), shape=(n, width))
    matrix.sum_duplicates()
    return matrix
