"""Named leases in the database: one poller per mailbox across all hosts.

A lease is held until it expires; the holder renews it while it works. A
crashed holder's lease simply runs out.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.db.models import Lease, utcnow

__all__ = ["acquire", "release"]


def acquire(sessions: sessionmaker[Session], name: str, holder: str, seconds: float) -> bool:
    """Take or renew lease ``name`` for ``holder``; False when another holder has it."""
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    with sessions.begin() as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
            .values(holder=holder, expires_at=expires)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    try:
        with sessions.begin() as session:
            if session.get(Lease, name) is not None:
                return False
            session.add(Lease(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        return False


def release(sessions: sessionmaker[Session], name: str, holder: str) -> None:
    """Give lease ``name`` back if ``holder`` has it."""
    with sessions.begin() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
