"""The audit log (BIO 8.15): one append-only row per view, decision, sign-in and refusal.

Rows are only ever added here; nothing in the app updates or deletes them.
``detail`` never holds a body, a BSN or an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.db.models import AuditEntry, utcnow

__all__ = ["record", "record_in", "AuditFilter", "search", "ACTIONS", "RESULTS", "PAGE_SIZE"]

#: What each action is called on the audit page.
ACTIONS = {
    "sign-in": "aangemeld",
    "sign-in-failed": "aanmelden mislukt",
    "sign-out": "afgemeld",
    "view-message": "bericht bekeken",
    "view-body": "inhoud bekeken",
    "download": "bijlage gedownload",
    "decide": "besloten",
    "undo": "besluit teruggedraaid",
    "withdraw": "klacht ingetrokken",
    "bulk-decide": "in één keer besloten",
    "denied": "toegang geweigerd",
    "csrf-failed": "formulier geweigerd (CSRF)",
    "view-audit": "auditlog bekeken",
    "view-report": "rapport bekeken",
    "disable-user": "account uitgeschakeld",
}
RESULTS = {"ok": "gelukt", "denied": "geweigerd", "not-found": "niet gevonden", "invalid": "ongeldig", "conflict": "al behandeld", "locked": "geblokkeerd"}
PAGE_SIZE = 100


def record_in(session: Session, actor: str, action: str, result: str, *, object: str | None = None, origin: str | None = None, detail: str | None = None) -> None:
    """Add one row in the caller's transaction (so a decision and its audit line commit together)."""
    session.add(AuditEntry(at=utcnow(), actor=actor[:200], action=action, object=object, result=result, origin=origin, detail=detail))


def record(sessions: sessionmaker[Session], actor: str, action: str, result: str, *, object: str | None = None, origin: str | None = None, detail: str | None = None) -> None:
    """Add one row in its own transaction."""
    with sessions.begin() as session:
        record_in(session, actor, action, result, object=object, origin=origin, detail=detail)


@dataclass(frozen=True)
class AuditFilter:
    """What the coordinator filters the log on; empty fields match everything."""

    actor: str = ""
    action: str = ""
    result: str = ""
    object: str = ""
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, where: AuditFilter, *, page: int = 1) -> tuple[list[AuditEntry], int]:
    """The matching rows, newest first, one page of them, and how many match in all."""
    query = select(AuditEntry)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.result:
        query = query.where(AuditEntry.result == where.result)
    if where.object:
        query = query.where(AuditEntry.object == where.object)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)).all()
    return list(rows), int(total)
