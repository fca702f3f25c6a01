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

__all__ = ["segments", "combine", "MAX_SEGMENTS", "SEGMENT_WORDS"]

#: A segment is a run of whole sentences of at least this many words (the last may be shorter).
SEGMENT_WORDS = 25
#: Only the first segments are scored (the start of a message says what it is about).
MAX_SEGMENTS = 16
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•]\s)")


def segments(text: str) -> list[str]:
    """``text`` cut into runs of sentences of about :data:`SEGMENT_WORDS` words; [] when it is a single segment."""
    out: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in _SENTENCE.split(text):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        current.append(sentence)
        words += len(sentence.split())
        if words >= SEGMENT_WORDS:
            out.append(" ".join(current))
            current, words = [], 0
            if len(out) >= MAX_SEGMENTS:
                break
    if current and len(out) < MAX_SEGMENTS:
        if out and words < SEGMENT_WORDS // 3:
            out[-1] = out[-1] + " " + " ".join(current)
        else:
            out.append(" ".join(current))
    return out if len(out) >= 2 else []


def combine(doc_probs: np.ndarray, segment_probs: np.ndarray, weight: float, klacht: int = 0) -> tuple[np.ndarray, int | None]:
    """The message's probabilities mixed with those of its most complaint-like segment, and that segment's index.

    ``doc_probs`` is one probability row, ``segment_probs`` one row per segment
    (possibly none: then the message's own row is returned).
    """
    if weight <= 0 or len(segment_probs) == 0:
        return doc_probs, None
    best = int(np.argmax(segment_probs[:, klacht]))
    return (1.0 - weight) * doc_probs + weight * segment_probs[best], best
