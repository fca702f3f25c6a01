"""CSRF tokens: one per server-side session, in a hidden field of every form, checked on every POST.

Before signing in there is no session yet: the login form carries a random
token that must equal the one in a short-lived cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets

__all__ = ["FIELD", "HEADER", "LOGIN_COOKIE", "new_token", "same"]

FIELD = "csrf_token"
HEADER = "x-csrf-token"
LOGIN_COOKIE = "kw_aanmelden"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
