"""Sentence-level evidence: a prepared text cut into short runs of sentences.

The model scores the whole text and each segment. The segment that most
points to a complaint is mixed into the message's scores (see
:func:`combine`), because one paragraph of complaint makes a message a
complaint (LABELING.md) however much other text surrounds it, and because a
single long part (a pasted newsletter, a legal footer) must not be able to
outvote it with certainty. That segment is also the sentence shown as a reason.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["segments", "segment_spans", "combine", "MAX_SEGMENTS", "SEGMENT_WORDS"]

#: A segment is a run of whole sentences of at least this many words (the last may be shorter).
SEGMENT_WORDS = 25
#: Only the first segments are scored (the start of a message says what it is about).
MAX_SEGMENTS = 16
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•]\s)")


def segment_spans(text: str) -> list[tuple[int, int]]:
    """Where the segments of ``text`` are: (start, end) character offsets of runs of whole sentences of about
    :data:`SEGMENT_WORDS` words; [] when the text is a single segment."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    words = 0
    at = 0
    for separator in [*_SENTENCE.finditer(text), None]:
        stop = separator.start() if separator is not None else len(text)
        count = len(text[at:stop].split())
        if count:
            if start is None:
                start = at + (len(text[at:stop]) - len(text[at:stop].lstrip()))
            end = stop
            words += count
            if words >= SEGMENT_WORDS:
                spans.append((start, end))
                start, words = None, 0
                if len(spans) >= MAX_SEGMENTS:
                    break
        if separator is None:
            break
        at = separator.end()
    if start is not None and len(spans) < MAX_SEGMENTS:
        if spans and words < SEGMENT_WORDS // 3:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans if len(spans) >= 2 else []


def segments(text: str) -> list[str]:
    """The segments of ``text`` as one line each (whitespace folded), as they are shown in reasons."""
    return [" ".join(text[start:end].split()) for start, end in segment_spans(text)]


def combine(doc_probs: np.ndarray, segment_probs: np.ndarray, weight: float, klacht: int = 0) -> tuple[np.ndarray, int | None]:
    """The message's probabilities mixed with those of its most complaint-like segment, and that segment's index.

    ``doc_probs`` is one probability row, ``segment_probs`` one row per segment
    (possibly none: then the message's own row is returned).
    """
    if weight <= 0 or len(segment_probs) == 0:
        return doc_probs, None
    best = int(np.argmax(segment_probs[:, klacht]))
    return (1.0 - weight) * doc_probs + weight * segment_probs[best], best
