"""The parts of a raw message the message view needs: its HTML body and its inline images.

The parsed record keeps only text (see :mod:`klachtwacht.web.safe_html`), so
both are read from the raw bytes (``raw_blobs``, via
:func:`klachtwacht.intake.load_raw`) with the same tree walk as ingest
(:func:`ingest.walk.walk_tree`): what counts as body HTML here is what ingest
converted to text. Pure functions over bytes; a message that cannot be read
yields None or an empty map, never an exception.
"""

from __future__ import annotations

import email
import logging
from email.message import Message

from ingest.limits import check_structure, check_tree
from ingest.recover import recover_start, rejoin_headers
from ingest.walk import walk_tree

__all__ = ["html_of", "inline_parts", "INLINE_IMAGE_TYPES", "MAX_INLINE_BYTES"]

log = logging.getLogger(__name__)

#: Image types served for ``cid:`` sources, with the type they are served as.
#: Raster formats only: an SVG opened at its own URL would be a document that can run script.
INLINE_IMAGE_TYPES = {
    "image/png": "image/png",
    "image/gif": "image/gif",
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/webp": "image/webp",
    "image/bmp": "image/bmp",
}
#: An inline image larger than this is not served.
MAX_INLINE_BYTES = 10_000_000


def _tree(raw: bytes) -> Message | None:
    """The MIME tree of ``raw`` as ingest reads it, or None when it cannot be read."""
    try:
        raw, _ = recover_start(bytes(raw))
        raw, _ = rejoin_headers(raw)
        check_structure(raw)
        message = email.message_from_bytes(raw)  # compat32, as ingest
        check_tree(message)
    except Exception as exc:  # a stored message was read once; failing now must not break the page
        log.info("a stored message could not be read again (%s)", type(exc).__name__)
        return None
    return message


def html_of(raw: bytes) -> str | None:
    """The HTML body of the message itself (not of attached messages), or None when it has none.

    Several HTML body parts are joined in order. The page shows this,
    sanitised, when it is not None, and the parsed record's text otherwise.
    """
    message = _tree(raw)
    if message is None:
        return None
    try:
        walk = walk_tree(message, None)
    except Exception as exc:
        log.info("the body of a stored message could not be read (%s)", type(exc).__name__)
        return None
    parts = walk.scopes[0].html
    return "\n".join(parts) if parts else None


def _content_id(part: Message) -> str | None:
    value = part.get("content-id")
    if value is None:
        return None
    cid = " ".join(str(value).split()).strip().strip("<>").strip()
    return cid or None


def inline_parts(raw: bytes) -> dict[str, tuple[str, bytes]]:
    """Content-ID (without angle brackets) → (content type to serve, bytes) of the message's images.

    Only leaf parts with a Content-ID and a raster type of
    :data:`INLINE_IMAGE_TYPES`, at most :data:`MAX_INLINE_BYTES` each; the
    first part wins when two carry the same Content-ID.
    """
    message = _tree(raw)
    found: dict[str, tuple[str, bytes]] = {}
    if message is None:
        return found
    for part in message.walk():
        if part.is_multipart():
            continue
        served = INLINE_IMAGE_TYPES.get(part.get_content_type())
        cid = _content_id(part)
        if served is None or cid is None or cid in found:
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:
            continue
        if isinstance(data, bytes) and data and len(data) <= MAX_INLINE_BYTES:
            found[cid] = (served, data)
    return found
