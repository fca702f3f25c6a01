"""The probe's token: HMAC-SHA256 over mailbox, issued-at and a nonce, in one header.

``kw1:<mailbox>:<issued unix seconds>:<nonce hex>:<hmac hex>``. Mailbox names
hold letters, digits, ``-``, ``_`` and ``.`` only (klachtwacht.config), so the
colon never occurs inside a field. :func:`check` is pure: it takes the key
and the moment and says what the token is, or why it is not to be trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["HEADER", "Token", "sign", "check"]

HEADER = "X-Klachtwacht-Canary"
VERSION = "kw1"
#: A token issued further in the future than this (clocks that differ) is not trusted.
CLOCK_SKEW = timedelta(minutes=5)
_SHAPE = re.compile(r"kw1:([A-Za-z0-9._-]{1,200}):([0-9]{1,12}):([0-9a-f]{32}):([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Token:
    mailbox: str
    issued_at: datetime
    nonce: str


def _mac(key: bytes, mailbox: str, issued: int, nonce: str) -> str:
    return hmac.new(key, ("%s:%s:%d:%s" % (VERSION, mailbox, issued, nonce)).encode("ascii"), hashlib.sha256).hexdigest()


def sign(key: bytes, token: Token) -> str:
    """The header value of ``token``."""
    issued = int(token.issued_at.timestamp())
    return "%s:%s:%d:%s:%s" % (VERSION, token.mailbox, issued, token.nonce, _mac(key, token.mailbox, issued, token.nonce))


def check(key: bytes, value: str, now: datetime, valid: timedelta) -> Token | str:
    """The token in header ``value`` when its signature holds and it is not expired; else the reason (English, for operators)."""
    match = _SHAPE.fullmatch(value.strip())
    if match is None:
        return "canary header not in the expected form"
    mailbox, issued_text, nonce, mac = match.groups()
    issued = int(issued_text)
    if not hmac.compare_digest(mac, _mac(key, mailbox, issued, nonce)):
        return "canary header with a wrong signature"
    issued_at = datetime.fromtimestamp(issued, tz=timezone.utc)
    if issued_at > now + CLOCK_SKEW:
        return "canary header issued in the future"
    if now - issued_at > valid:
        return "canary header expired (issued %s)" % issued_at.strftime("%Y-%m-%d %H:%M UTC")
    return Token(mailbox, issued_at, nonce)
