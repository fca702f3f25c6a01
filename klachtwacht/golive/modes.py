"""The going-live mode of every mailbox, recorded at start when it differs from the last one recorded.

The table ``mode_changes`` is the history of modes: a pilot report knows
from it when shadow mode began and ended, and an operator can see who ran
what when. Each plan carries its own mode too (``messages.plan_mode``).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.config import Config
from klachtwacht.db.models import ModeChange, utcnow

__all__ = ["record_mode_changes", "current_modes"]

log = logging.getLogger(__name__)


def current_modes(session: Session) -> dict[str, str]:
    """The last recorded mode of each mailbox."""
    out: dict[str, str] = {}
    for change in session.scalars(select(ModeChange).order_by(ModeChange.id)):
        out[change.mailbox] = change.mode
    return out


def record_mode_changes(sessions: sessionmaker[Session], config: Config) -> list[ModeChange]:
    """Record the configured mode of each mailbox that differs from its last recorded mode; return the new rows."""
    new: list[ModeChange] = []
    with sessions.begin() as session:
        last = current_modes(session)
        now = utcnow()
        for mailbox in config.mailboxes:
            mode = config.going_live(mailbox).mode
            previous = last.get(mailbox.name)
            if previous == mode:
                continue
            row = ModeChange(mailbox=mailbox.name, organisation=mailbox.organisation, mode=mode, previous=previous, at=now)
            session.add(row)
            new.append(row)
            if previous is not None:
                log.warning("mailbox %s: mode changed from %s to %s", mailbox.name, previous, mode)
            else:
                log.info("mailbox %s: mode %s", mailbox.name, mode)
        session.flush()
        session.expunge_all()
    return new
