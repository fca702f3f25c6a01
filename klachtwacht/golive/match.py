"""Matching the complaints found in the mailboxes to the rows of a register export, pure.

A row is a candidate for a complaint when its date lies in a window around
the receipt (a day before, up to ``window_days`` after: registration takes a
while). Among candidates the sender counts most (the same address, else the
same name) and then the subject's similarity; each row is matched to one
complaint at most, best pairs first. Every match carries its evidence in
Dutch, so the coordinator can check it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from klachtwacht.golive.export import ExportRow

__all__ = ["Complaint", "Match", "match_complaints", "subject_similarity", "WINDOW_DAYS", "LIKELY"]

#: Registration may follow receipt by this many days.
WINDOW_DAYS = 14
#: The score from which a candidate is a likely match.
LIKELY = 0.6
_PREFIX = re.compile(r"^\s*((re|fw|fwd|antw|doorst)\s*:\s*)+", re.IGNORECASE)
_TAG = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Complaint:
    key: int  # the message's number (negative for mail read from the server only)
    day: date  # received (Dutch date)
    address: str | None
    name: str | None
    subject: str


@dataclass(frozen=True)
class Match:
    complaint: int
    row: ExportRow
    score: float
    evidence: tuple[str, ...]


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(_WORD.findall(_TAG.sub(" ", _PREFIX.sub("", text))))


def subject_similarity(a: str, b: str) -> float:
    """0..1: how alike two subjects are, ignoring Re:/Fwd:, tags, case and accents."""
    x, y = _normal(a), _normal(b)
    if not x or not y:
        return 0.0
    return SequenceMatcher(None, x, y).ratio()


def _name_match(name: str | None, row: ExportRow) -> bool:
    if not name:
        return False
    words = set(_WORD.findall(_normal(name)))
    written = set(_WORD.findall(_normal(row.sender)))
    return len(words) >= 1 and len(words & written) >= min(2, len(words))


def _score(complaint: Complaint, row: ExportRow, window_days: int) -> tuple[float, tuple[str, ...]] | None:
    delta = (row.day - complaint.day).days
    if delta < -1 or delta > window_days:
        return None
    evidence = [f"geregistreerd {delta} dag(en) na ontvangst" if delta >= 0 else "geregistreerd een dag vóór de ontvangstdatum"]
    score = 0.0
    if complaint.address and row.address and complaint.address.lower() == row.address:
        score += 0.6
        evidence.append(f"zelfde afzenderadres ({row.address})")
    elif _name_match(complaint.name, row):
        score += 0.45
        evidence.append(f"zelfde naam van de afzender ({row.sender})")
    similarity = subject_similarity(complaint.subject, row.subject)
    score += 0.4 * similarity
    if similarity >= 0.5:
        evidence.append(f"onderwerp lijkt {similarity:.0%} op {row.subject!r}")
    score -= 0.01 * max(delta, 0) / max(window_days, 1)  # the nearer date wins a tie
    return score, tuple(evidence)


def match_complaints(complaints: Sequence[Complaint], rows: Sequence[ExportRow], *, window_days: int = WINDOW_DAYS, likely: float = LIKELY) -> list[Match]:
    """The likely matches, each complaint and each row at most once, best pairs first."""
    pairs: list[tuple[float, int, int, tuple[str, ...]]] = []
    for ci, complaint in enumerate(complaints):
        for ri, row in enumerate(rows):
            scored = _score(complaint, row, window_days)
            if scored is not None and scored[0] >= likely:
                pairs.append((scored[0], ci, ri, scored[1]))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_c: set[int] = set()
    used_r: set[int] = set()
    out = []
    for score, ci, ri, evidence in pairs:
        if ci in used_c or ri in used_r:
            continue
        used_c.add(ci)
        used_r.add(ri)
        out.append(Match(complaints[ci].key, rows[ri], round(score, 3), evidence))
    return out
