"""Which message is this? A cheap, never-failing look at the header block.

The same mail cc'd to a wethouder and the raad arrives as two different byte
strings (other Received and Delivered-To headers) with one Message-ID, and
Exchange may give an unchanged message a new UID. So a message is known by
its Message-ID when it has one, and by the SHA-256 of its bytes otherwise.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["sha256_hex", "header_message_id", "message_identity", "MAX_HEADER_SCAN"]

#: Only this many leading bytes are searched for the header block.
MAX_HEADER_SCAN = 256 * 1024

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)", re.IGNORECASE | re.MULTILINE)


def sha256_hex(raw: bytes) -> str:
    """Hex SHA-256 of ``raw``."""
    return hashlib.sha256(raw).hexdigest()


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID header value, unfolded and stripped, or None.

    Works on bytes without a full parse, so malformed mail cannot make it
    fail; values that are empty or hold no ``@`` and no ``<`` count as absent.
    """
    head = raw[:MAX_HEADER_SCAN]
    end = _HEADER_END.search(head)
    if end is not None:
        head = head[: end.start()]
    match = _MESSAGE_ID.search(head)
    if match is None:
        return None
    value = re.sub(rb"\r?\n[ \t]+", b" ", match.group(1)).strip()
    text = value.decode("utf-8", "replace")[:998]
    if not text or ("@" not in text and "<" not in text):
        return None
    return text


def message_identity(raw: bytes, digest: str | None = None) -> tuple[str, str | None]:
    """Return ``(identity, message_id)`` for ``raw``."""
    message_id = header_message_id(raw)
    if message_id is not None:
        return f"mid:{message_id}", message_id
    return f"sha:{digest or sha256_hex(raw)}", None
