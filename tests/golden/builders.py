"""Golden messages too big or too pathological to commit as files.

Each builder is deterministic: the same call gives the same bytes. ``BUILT``
maps a case name to its builder and to the expected parse, in the same shape
as the ``NAME.json`` files beside the ``.eml`` files.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from typing import Any

__all__ = [
    "BUILT",
    "LARGE_ATTACHMENT_SIZE",
    "build_large_attachment",
    "build_mime_bomb",
    "build_many_parts",
    "build_huge_text",
]

#: The size of the attachment in :func:`build_large_attachment` (25 MiB).
LARGE_ATTACHMENT_SIZE = 25 * 1024 * 1024

_HEAD = (
    "From: Bouwbedrijf Jansen <info@bouwbedrijf-jansen.example>\r\n"
    "To: wethouder.devries@gemeente-veenstad.nl\r\n"
    "Subject: {subject}\r\n"
    "Date: Tue, 29 Apr 2025 10:00:00 +0200\r\n"
    "Message-ID: <{mid}@bouwbedrijf-jansen.example>\r\n"
    "MIME-Version: 1.0\r\n"
)


def _head(subject: str, mid: str) -> bytes:
    return _HEAD.format(subject=subject, mid=mid).encode("ascii")


def build_large_attachment(size: int = LARGE_ATTACHMENT_SIZE) -> bytes:
    """A complaint with a ``size``-byte video attached, base64 in CRLF lines of 76."""
    payload = random.Random(25).randbytes(size)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return (
        _head("Bewijs: filmpje van de overlast", "large-25mb")
        + b'Content-Type: multipart/mixed; boundary="big-boundary"\r\n\r\n'
        + b"--big-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + b"In de bijlage het filmpje van de nachtelijke overlast bij de bouwplaats.\r\n"
        + b"--big-boundary\r\n"
        + b'Content-Type: video/mp4; name="overlast.mp4"\r\n'
        + b'Content-Disposition: attachment; filename="overlast.mp4"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + b"--big-boundary--\r\n"
    )


def build_mime_bomb(depth: int = 60) -> bytes:
    """multipart/mixed nested ``depth`` levels deep, a text part at the bottom."""
    lines = [_head("Geneste bijlagen", "bomb-%d" % depth)]
    for level in range(depth):
        lines.append(b'Content-Type: multipart/mixed; boundary="level-%d"\r\n\r\n--level-%d\r\n' % (level, level))
    lines.append(b"Content-Type: text/plain\r\n\r\nonderaan\r\n")
    for level in reversed(range(depth)):
        lines.append(b"--level-%d--\r\n" % level)
    return b"".join(lines)


def build_many_parts(parts: int = 5000) -> bytes:
    """One multipart/mixed with ``parts`` tiny text attachments."""
    chunks = [_head("Heel veel bijlagen", "many-%d" % parts), b'Content-Type: multipart/mixed; boundary="many"\r\n\r\n']
    for number in range(parts):
        chunks.append(
            b"--many\r\nContent-Type: text/plain\r\n"
            b'Content-Disposition: attachment; filename="deel-%d.txt"\r\n\r\ndeel %d\r\n' % (number, number)
        )
    chunks.append(b"--many--\r\n")
    return b"".join(chunks)


def build_huge_text(chars: int = 1_500_000) -> bytes:
    """A plain text body of ``chars`` characters (beyond the text cap)."""
    sentence = b"De gemeente reageert niet op mijn klachten over de stank. "
    body = (sentence * (chars // len(sentence) + 1))[:chars]
    lines = b"\r\n".join(body[i : i + 998] for i in range(0, len(body), 998))
    return _head("Heel lange klacht", "huge-text") + b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + lines + b"\r\n"


def _expect(**values: Any) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "message_id": None,
        "sender": "info@bouwbedrijf-jansen.example",
        "subject": "",
        "date": "2025-04-29T10:00:00+02:00",
        "text_contains": [],
        "text_not_contains": [],
        "attachments": [],
        "auto_signals": [],
        "defects": False,
        "quarantine": None,
    }
    expected.update(values)
    return expected


BUILT: dict[str, tuple[Callable[[], bytes], dict[str, Any]]] = {
    "built_large_attachment_25mb": (
        build_large_attachment,
        _expect(
            message_id="<large-25mb@bouwbedrijf-jansen.example>",
            subject="Bewijs: filmpje van de overlast",
            text_contains=["nachtelijke overlast bij de bouwplaats"],
            attachments=[{"filename": "overlast.mp4", "content_type": "video/mp4", "size": LARGE_ATTACHMENT_SIZE}],
        ),
    ),
    "built_mime_bomb_60_deep": (build_mime_bomb, _expect(quarantine="MIME structure too deep")),
    "built_5000_parts": (build_many_parts, _expect(quarantine="too many MIME parts")),
    "built_huge_text_is_cut": (
        build_huge_text,
        _expect(
            message_id="<huge-text@bouwbedrijf-jansen.example>",
            subject="Heel lange klacht",
            text_contains=["De gemeente reageert niet op mijn klachten"],
            defects=True,
        ),
    ),
}
