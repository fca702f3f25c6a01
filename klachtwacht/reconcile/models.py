"""The table of reconciliation runs: one row per night reconciled.

It makes the scheduler's ticks idempotent (a night is run once, whoever ticks),
lets a missed night be caught up, and keeps the findings for trends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from klachtwacht.db.models import Base, utcnow
from klachtwacht.db.types import UTCDateTime

__all__ = ["ReconcileRun"]


class ReconcileRun(Base):
    """One night's reconciliation: claimed when it starts, completed with its outcome."""

    __tablename__ = "reconcile_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clean: Mapped[bool | None] = mapped_column(Boolean)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[list[Any] | None] = mapped_column(JSON)
