"""RFC 2047 encoded words, decoded once and from the header's raw bytes.

A header field arrives as bytes: 8-bit bytes outside encoded words are
decoded with :func:`ingest.charsets.decode_bytes` (UTF-8, the message's own
charset as a hint, then Windows-1252), and the bytes inside an encoded word
(8-bit ones included, which sloppy mailers put there) are decoded in the
word's own charset, never first as something else. Adjacent words of one
charset are decoded together (mailers split a UTF-8 character over two
words); white space between two encoded words is dropped.
"""

from __future__ import annotations

import base64
import binascii
import re

from ingest.charsets import decode_bytes

__all__ = ["decode_header_bytes", "decode_words", "header_bytes"]

_WORD = re.compile(rb"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([qQbB])\?([^?]*)\?=")


def header_bytes(value: str) -> bytes:
    """A header value as the compat32 parser keeps it (8-bit bytes as surrogates) back to its bytes."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def decode_words(text: str, defects: list[str] | None, where: str, hint: str | None = None) -> str:
    """Decode the encoded words in ``text``; 8-bit bytes kept as surrogates are decoded from their bytes."""
    if "=?" not in text and text.isascii():
        return text
    return decode_header_bytes(header_bytes(text), defects, where, hint)


def decode_header_bytes(data: bytes, defects: list[str] | None, where: str, hint: str | None = None, words: bool = True) -> str:
    """The text of a header value's bytes: plain runs and encoded words each decoded once."""
    if not words or b"=?" not in data:
        return decode_bytes(data, None, defects, where, hint)
    out: list[str] = []
    pending: list[bytes] = []
    charset = ""
    pos = 0
    for match in _WORD.finditer(data):
        gap = data[pos : match.start()]
        word_charset = match.group(1).decode("ascii", "replace").lower()
        if pending and (gap.strip() or word_charset != charset):
            out.append(decode_bytes(b"".join(pending), charset, defects, where))
            pending = []
        if gap.strip() or (gap and pos == 0):
            out.append(decode_bytes(gap, None, defects, where, hint))
        payload = match.group(3)
        if match.group(2) in b"qQ":
            payload = binascii.a2b_qp(payload, header=True)
        else:
            payload = re.sub(rb"[^A-Za-z0-9+/]", b"", payload)
            payload = base64.b64decode(payload[: len(payload) - (len(payload) % 4 == 1)] + b"==")
        pending.append(payload)
        charset, pos = word_charset, match.end()
    if pending:
        out.append(decode_bytes(b"".join(pending), charset, defects, where))
    out.append(decode_bytes(data[pos:], None, defects, where, hint))
    return "".join(out)
