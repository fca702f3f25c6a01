"""The tables of reconciliation: one row per night reconciled, one per canary probe sent.

``reconcile_runs`` makes the scheduler's ticks idempotent (a night is run
once, whoever ticks), lets a missed night be caught up, and keeps the
findings for trends. ``canary_probes`` (migration 0008_canary) holds each
probe sent, and when and as which message it was recognised.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from klachtwacht.db.models import Base, utcnow
from klachtwacht.db.types import UTCDateTime

__all__ = ["ReconcileRun", "CanaryProbe"]


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


class CanaryProbe(Base):
    """One probe: written before it is sent, marked seen by the pipeline step that recognises it."""

    __tablename__ = "canary_probes"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)  # the night whose run sent it: one probe per mailbox and night
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))

    __table_args__ = (UniqueConstraint("mailbox", "day", name="uq_canary_probe_night"),)
