"""Register entries in our own database: numbers per organisation and year, deadlines.

An entry is made once per message (a unique key on the message); numbers
are ``PREFIX-YEAR-SEQUENCE`` (``KL-2026-000123``), counted per organisation
and year, the year being that of the receipt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.config import OrganisationConfig
from klachtwacht.db.models import RegisterEntry, utcnow
from rules.deadlines import complaint_terms, local_date

__all__ = ["entry_for", "format_number"]


def format_number(prefix: str, year: int, sequence: int) -> str:
    """``KL-2026-000123``."""
    return f"{prefix}-{year}-{sequence:06d}"


def entry_for(
    sessions: sessionmaker[Session],
    message_pk: int,
    organisation: OrganisationConfig,
    received_at: datetime,
    backend: str,
    route: str | None,
) -> RegisterEntry:
    """The register entry of ``message_pk``, made now if it has none (status ``pending``)."""
    for _ in range(20):
        with sessions() as session:
            existing = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == message_pk))
            if existing is not None:
                return existing
        terms = complaint_terms(received_at)
        year = local_date(received_at).year
        try:
            with sessions.begin() as session:
                last = session.scalar(
                    select(func.max(RegisterEntry.sequence)).where(RegisterEntry.organisation == organisation.name, RegisterEntry.year == year)
                )
                sequence = (last or 0) + 1
                entry = RegisterEntry(
                    message_pk=message_pk,
                    organisation=organisation.name,
                    year=year,
                    sequence=sequence,
                    number=format_number(organisation.register_prefix, year, sequence),
                    received_at=received_at,
                    due=terms.due,
                    refusal_due=terms.refusal_due,
                    extended_due=None,
                    status="pending",
                    backend=backend,
                    route=route,
                    created_at=utcnow(),
                )
                session.add(entry)
            return entry
        except IntegrityError:
            continue  # another worker took this number or registered this message: look again
    raise RuntimeError(f"could not allocate a register number for message {message_pk}")
