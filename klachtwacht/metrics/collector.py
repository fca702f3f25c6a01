"""Gauges read from the database at scrape time: what is true now, whichever process did it.

One collector answers for the whole installation, from the database (the
source of truth): messages per state, label and mailbox; the review backlog
and its oldest item; open complaints by deadline status; effects that failed;
the last good poll and the last canary per mailbox; the last night's findings
by kind. Labels are mailbox names, states, labels and kinds only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.db.models import Effect, FolderCursor, Message, MessageState, RegisterEntry, Sighting, utcnow
from klachtwacht.reconcile.models import CanaryProbe, ReconcileRun
from rules.deadlines import local_date

__all__ = ["DatabaseCollector"]


class DatabaseCollector(Collector):
    """A Prometheus collector over the klachtwacht database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        today = local_date(now)
        with self.sessions() as session:
            first = (select(Sighting.message_pk, func.min(Sighting.mailbox).label("mailbox")).group_by(Sighting.message_pk).subquery())
            messages = GaugeMetricFamily("klachtwacht_messages", "Messages by state, label and first mailbox", labels=["state", "label", "mailbox"])
            backlog = GaugeMetricFamily("klachtwacht_review_backlog", "Messages waiting for a secretary", labels=["mailbox"])
            oldest = GaugeMetricFamily("klachtwacht_review_oldest_age_seconds", "Age of the oldest message waiting for review", labels=["mailbox"])
            waiting: dict[str, int] = defaultdict(int)
            rows = session.execute(
                select(Message.state, Message.label, first.c.mailbox, func.count(), func.min(Message.state_changed_at))
                .join(first, first.c.message_pk == Message.id).group_by(Message.state, Message.label, first.c.mailbox)
            )
            canary = GaugeMetricFamily("klachtwacht_canary_last_seen_timestamp_seconds", "When the last canary probe of a mailbox was recognised",
                                       labels=["mailbox"])
            for state, label, mailbox, count, since in rows:
                if state == MessageState.CANARY:  # probes are not messages: left out of the counts, shown as their own gauge
                    continue
                messages.add_metric([state, label or "", mailbox], count)
                if state == MessageState.REVIEW:
                    waiting[mailbox] += count
                    if since is not None:
                        oldest.add_metric([mailbox], max(0.0, (now - since).total_seconds()))
            for mailbox, count in waiting.items():
                backlog.add_metric([mailbox], count)
            for mailbox, at in session.execute(
                select(CanaryProbe.mailbox, func.max(CanaryProbe.seen_at)).where(CanaryProbe.seen_at.is_not(None)).group_by(CanaryProbe.mailbox)
            ):
                if at is not None:
                    canary.add_metric([mailbox], at.timestamp())
            yield messages
            yield backlog
            yield oldest
            yield canary

            open_ = GaugeMetricFamily("klachtwacht_complaints_open", "Open complaints in the built-in register by deadline status", labels=["deadline"])
            counts = {"ok": 0, "due_7d": 0, "overdue": 0}
            for due, extended in session.execute(select(RegisterEntry.due, RegisterEntry.extended_due).where(RegisterEntry.status == "open")):
                limit = extended or due
                counts["overdue" if limit < today else "due_7d" if limit <= today + timedelta(days=7) else "ok"] += 1
            for status, count in counts.items():
                open_.add_metric([status], count)
            yield open_

            failures = GaugeMetricFamily("klachtwacht_effects_unfinished", "Register entries and letters not (yet) performed, by effect and status",
                                         labels=["effect", "status"])
            for effect, status, count in session.execute(
                select(Effect.effect, Effect.status, func.count()).where(Effect.status.not_in(("done", "skipped", "cancelled")))
                .group_by(Effect.effect, Effect.status)
            ):
                failures.add_metric([effect.split(":")[0], status], count)
            yield failures

            polled = GaugeMetricFamily("klachtwacht_mailbox_last_poll_timestamp_seconds", "Last successful poll of a mailbox", labels=["mailbox"])
            for mailbox, at in session.execute(select(FolderCursor.mailbox, func.min(FolderCursor.last_poll_at)).group_by(FolderCursor.mailbox)):
                if at is not None:
                    polled.add_metric([mailbox], at.timestamp())
            yield polled

            findings = GaugeMetricFamily("klachtwacht_reconcile_findings", "Findings of the last nightly reconciliation, by kind and severity",
                                         labels=["kind", "severity"])
            last = session.scalars(select(ReconcileRun).where(ReconcileRun.finished_at.is_not(None)).order_by(ReconcileRun.day.desc()).limit(1)).first()
            if last is not None:
                by: dict[tuple[str, str], int] = defaultdict(int)
                for finding in last.findings or []:
                    by[(finding["kind"], finding["severity"])] += 1
                for (kind, severity), count in sorted(by.items()):
                    findings.add_metric([kind, severity], count)
            yield findings
            ran = GaugeMetricFamily("klachtwacht_reconcile_last_run_timestamp_seconds", "When the last nightly reconciliation finished")
            if last is not None and last.finished_at is not None:
                ran.add_metric([], last.finished_at.timestamp())
            yield ran
