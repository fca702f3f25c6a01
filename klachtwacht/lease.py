"""Named leases in the database: one poller per mailbox across all hosts.

A lease is held until it expires; the holder renews it while it works. A
crashed holder's lease simply runs out.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.db.models import Lease, utcnow

__all__ = ["acquire", "release", "holder_id"]


def holder_id() -> str:
    """``host:pid:thread``: who holds a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _dead_local_holder(holder: str) -> bool:
    """True when ``holder`` was a process on this host that no longer runs (killed, crashed)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(sessions: sessionmaker[Session], name: str, holder: str, seconds: float) -> bool:
    """Take or renew lease ``name`` for ``holder``; False when another live holder has it.

    A lease whose holder was a process on this host that has died is taken
    over at once, so a restart after a crash need not wait for it to expire.
    """
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    with sessions() as session:
        current = session.get(Lease, name)
        stale = current is not None and current.holder != holder and _dead_local_holder(current.holder)
        current_holder = current.holder if current is not None else None
    condition = (Lease.holder == holder) | (Lease.expires_at < now)
    if stale:
        condition = condition | (Lease.holder == current_holder)
    for _ in range(2):  # a row that appeared between the update and the insert may be this holder's own (another folder's thread)
        with sessions.begin() as session:
            taken = session.execute(update(Lease).where(Lease.name == name, condition).values(holder=holder, expires_at=expires))
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with sessions.begin() as session:
                if session.get(Lease, name) is not None:
                    continue
                session.add(Lease(name=name, holder=holder, expires_at=expires))
            return True
        except IntegrityError:
            continue
    return False


def release(sessions: sessionmaker[Session], name: str, holder: str) -> None:
    """Give lease ``name`` back if ``holder`` has it."""
    with sessions.begin() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
