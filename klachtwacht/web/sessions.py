"""Server-side sessions: the cookie holds only a random id; the row says who, since when, and whether it still counts.

A session ends when the user signs out (revoked), when it was unused for
``session_idle_minutes``, or when the account is disabled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from klachtwacht.db.models import User, WebSession, utcnow

__all__ = ["COOKIE", "new_session", "load_session", "revoke", "Loaded", "TOUCH_EVERY"]

COOKIE = "kw_sessie"
#: ``last_seen`` is written at most this often, so a page view is one read, not a write.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Loaded:
    """A session found by its cookie: ``session`` and ``user`` when it counts, else why not (``expired`` or ``unknown``)."""

    session: WebSession | None
    user: User | None
    problem: str | None = None


def new_session(session: Session, user_id: int, origin: str | None) -> WebSession:
    """A fresh session row with its own CSRF token (a new id at every sign-in: no fixation)."""
    row = WebSession(id=secrets.token_urlsafe(32), user_id=user_id, csrf=secrets.token_urlsafe(32), created_at=utcnow(), last_seen=utcnow(), origin=origin)
    session.add(row)
    return row


def load_session(session: Session, cookie: str | None, *, idle: timedelta, now: datetime | None = None) -> Loaded:
    """The session of ``cookie``, its ``last_seen`` refreshed; an idle one is revoked and reported ``expired``."""
    if not cookie or len(cookie) > 100:
        return Loaded(None, None, "unknown")
    now = now or utcnow()
    row = session.get(WebSession, cookie)
    if row is None or row.revoked_at is not None:
        return Loaded(None, None, "unknown" if row is None else "expired")
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        row.revoked_at = now
        return Loaded(None, None, "expired")
    if now - row.last_seen > idle:
        row.revoked_at = now
        return Loaded(None, None, "expired")
    if now - row.last_seen > TOUCH_EVERY:
        row.last_seen = now
    return Loaded(row, user)


def revoke(session: Session, session_id: str) -> None:
    """End the session (sign-out); the row stays for the audit trail."""
    row = session.get(WebSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
