"""An attachment's bytes, found again in the raw message by the digest the parsed record keeps."""

from __future__ import annotations

import email
import hashlib
import logging

__all__ = ["attachment_bytes"]

log = logging.getLogger(__name__)


def attachment_bytes(raw: bytes, sha256: str) -> bytes | None:
    """The decoded payload of the leaf part of ``raw`` whose SHA-256 is ``sha256``, or None."""
    try:
        message = email.message_from_bytes(raw)
        for part in message.walk():
            if part.is_multipart():
                continue
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and hashlib.sha256(data).hexdigest() == sha256:
                return data
    except Exception as exc:  # a stored message was read once; failing now must not break the page
        log.info("an attachment could not be read again (%s)", type(exc).__name__)
    return None
