"""Structural limits checked before and after parsing: MIME bombs are refused, not parsed.

:func:`check_structure` scans the bytes before any parser sees them;
:func:`check_tree` counts the parsed tree exactly.
"""

from __future__ import annotations

import re
from email.message import Message

from klachtwacht.errors import ParseError

__all__ = ["MAX_PARTS", "MAX_DEPTH", "MAX_ENCODED_WORDS", "check_structure", "check_tree"]

#: A message with more MIME parts than this is refused (a MIME bomb).
MAX_PARTS = 500
#: A message with multiparts nested deeper than this is refused.
MAX_DEPTH = 20
#: A header block with more RFC 2047 encoded words than this is refused: the
#: standard library's ``decode_header``, which mail-parser runs on every header,
#: is quadratic in them (20,000 cost 1.3 s, 70,000 cost 10 s).
MAX_ENCODED_WORDS = 10_000

_BOUNDARY_VALUE = re.compile(rb'[ \t]*=[ \t]*(?:"([^"\r\n]*)"|([^\s;"]+))')
_LINE_START_DASHES = re.compile(rb"\n--")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def check_structure(raw: bytes) -> None:
    """Refuse MIME bombs with a cheap scan of the bytes, before any parser.

    Every delimiter line of a declared boundary opens a part; a boundary
    seen for the first time opens one more nesting level, and the
    delimiter of an enclosing boundary closes the levels inside it. The
    header block may hold at most :data:`MAX_ENCODED_WORDS` encoded words.
    """
    end_of_head = _HEADER_END.search(raw)
    words = raw.count(b"=?", 0, end_of_head.start() if end_of_head else len(raw))
    if words > MAX_ENCODED_WORDS:
        raise ParseError("too many encoded words in the header block: %d (limit %d)" % (words, MAX_ENCODED_WORDS))
    lower = raw.lower()
    declared: set[bytes] = set()
    pos = lower.find(b"boundary")
    while pos >= 0:
        match = _BOUNDARY_VALUE.match(raw, pos + 8)
        if match:
            declared.add((match.group(1) if match.group(1) is not None else match.group(2)).rstrip())
        pos = lower.find(b"boundary", pos + 8)
    declared.discard(b"")
    if not declared:
        return
    starts = [0] if raw.startswith(b"--") else []
    starts_iter = (m.start() + 1 for m in _LINE_START_DASHES.finditer(raw))
    stack: list[bytes] = []
    parts = 1
    for start in (*starts, *starts_iter) if starts else starts_iter:
        end = raw.find(b"\n", start)
        token = raw[start + 2 : len(raw) if end < 0 else end].rstrip(b"\r\t ")
        closing = token not in declared and token.endswith(b"--") and token[:-2] in declared
        if closing:
            token = token[:-2]
        elif token not in declared:
            continue
        if token in stack:
            del stack[stack.index(token) + (0 if closing else 1) :]
        elif not closing:
            stack.append(token)
            if len(stack) > MAX_DEPTH:
                raise ParseError("MIME structure too deep: at least %d nested levels (limit %d)" % (len(stack), MAX_DEPTH))
        if not closing:
            parts += 1
            if parts > MAX_PARTS:
                raise ParseError("too many MIME parts: at least %d (limit %d)" % (parts, MAX_PARTS))


def check_tree(message: Message) -> None:
    """The exact limits on the parsed tree (catches what the scan cannot see)."""
    parts = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > MAX_PARTS:
            raise ParseError("too many MIME parts: at least %d (limit %d)" % (parts, MAX_PARTS))
        if depth > MAX_DEPTH:
            raise ParseError("MIME structure too deep: at least %d nested levels (limit %d)" % (depth, MAX_DEPTH))
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in part.get_payload() if isinstance(child, Message))
