"""Which non-Western charset a line of 8-bit bytes without a label is in, judged by the script it decodes to.

Used only for a line that is not UTF-8, is not in the charset the message
declares elsewhere, and cannot be Western text (most of its letters are
8-bit bytes): each candidate codec must decode it strictly, and the one
whose text stays within its own script (Chinese ideographs, kana, Hangul,
Cyrillic in sane letter case, Greek, Arabic, Hebrew) wins. Short lines are
ambiguous, so a candidate must cover nearly all non-ASCII characters.
"""

from __future__ import annotations

import re

__all__ = ["guess_codec", "looks_western"]

_IDEOGRAPHS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x3000, 0x303F), (0xFF00, 0xFFEF))
_KANA = ((0x3040, 0x30FF),)
_SCRIPTS: tuple[tuple[str, tuple[tuple[int, int], ...], bool], ...] = (
    # (codec, the ranges its text should stay in, whether kana must appear)
    # Korean first: EUC-KR Hangul bytes are valid GB2312 too, but Chinese read as cp949 mixes in Hanja
    ("cp949", ((0xAC00, 0xD7AF), (0x3130, 0x318F)) + _IDEOGRAPHS[2:], False),
    ("cp932", _IDEOGRAPHS + _KANA, True),
    ("gb18030", _IDEOGRAPHS, False),
    ("big5hkscs", _IDEOGRAPHS, False),
    ("cp1251", ((0x0400, 0x04FF), (0x2010, 0x2030), (0x00AB, 0x00BB)), False),
    ("koi8_r", ((0x0400, 0x04FF), (0x2010, 0x2030)), False),
    ("cp1253", ((0x0370, 0x03FF), (0x2010, 0x2030)), False),
    ("cp1256", ((0x0600, 0x06FF), (0x2010, 0x2030)), False),
    ("cp1255", ((0x0590, 0x05FF), (0x2010, 0x2030)), False),
)
_MIN_SHARE = 0.95
_WORDS = re.compile(r"[^\W\d_]+")


def looks_western(line: bytes) -> bool:
    """True unless most letters of ``line`` are 8-bit bytes (Western text has a few accents between ASCII letters)."""
    high = sum(1 for b in line if b >= 0x80)
    ascii_letters = sum(1 for b in line if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)
    return high < 4 or high <= ascii_letters


def _share(text: str, ranges: tuple[tuple[int, int], ...]) -> float:
    wide = [ord(ch) for ch in text if ord(ch) >= 0x80]
    if not wide:
        return 0.0
    return sum(1 for cp in wide if any(lo <= cp <= hi for lo, hi in ranges)) / len(wide)


def _sane_case(text: str) -> float:
    """The share of words in one case or capitalised (KOI8-R read as cp1251 gives "цБМПВБ")."""
    words = _WORDS.findall(text)
    if not words:
        return 0.0
    return sum(1 for w in words if w.islower() or w.isupper() or w.istitle()) / len(words)


def guess_codec(line: bytes) -> str | None:
    """The codec whose text of ``line`` stays within its script, or None when none does clearly (ties: the first listed)."""
    best: tuple[float, str] | None = None
    for codec, ranges, kana in _SCRIPTS:
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            continue
        if kana and not any(0x3040 <= ord(ch) <= 0x30FF for ch in text):
            continue
        score = _share(text, ranges)
        if codec in ("cp1251", "koi8_r"):
            score *= _sane_case(text)
        if score >= _MIN_SHARE and (best is None or score > best[0]):
            best = (score, codec)
    return best[1] if best else None
