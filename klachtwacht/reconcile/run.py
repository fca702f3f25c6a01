"""One reconciliation run: load the facts, check, repair what is safe, report.

The checks are pure (``checks``, ``volume``); this module is the edge that
reads the database and the mailboxes and carries out the repairs: stuck
messages are re-enqueued, messages found on the server but never ingested are
stored now (read-only fetch), a renumbered folder is rescanned by a poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from klachtwacht.canary.probe import send_probes
from klachtwacht.config import Config, MailboxConfig
from klachtwacht.db.models import Sighting, utcnow
from klachtwacht.errors import KlachtwachtError
from klachtwacht.intake import DatabaseSink
from klachtwacht.notices.mailer import Mailer, MailSender
from klachtwacht.reconcile.canary import canary_findings, last_probes
from klachtwacht.reconcile.checks import ChannelVolume, Settings, channel_volumes, store_findings, stuck_messages, volume_findings
from klachtwacht.reconcile.facts import Facts, load_facts
from klachtwacht.reconcile.findings import Finding, Report
from klachtwacht.reconcile.mailboxes import check_mailbox
from klachtwacht.reconcile.retention import apply_retention
from klachtwacht.reconcile.zaken import check_zaken, zaak_refs
from rules.deadlines import local_date

__all__ = ["settings_of", "Reconciler", "RunResult"]

log = logging.getLogger(__name__)


def settings_of(config: Config) -> Settings:
    r = config.reconcile
    return Settings(
        stuck_minutes=r.stuck_minutes,
        review_working_days=r.review_working_days,
        deadline_warn_days=r.deadline_warn_days,
        region=r.region,
        volume_weeks=r.volume_weeks,
    )


@dataclass(frozen=True)
class RunResult:
    report: Report
    volumes: tuple[ChannelVolume, ...]
    enqueued: tuple[int, ...]  # messages handed to the workers by a repair


class Reconciler:
    """Runs the checks against one App (its database, broker and mailboxes)."""

    def __init__(self, app: object, *, repair: bool = True, progress: Callable[[str], None] | None = None,
                 mailer: MailSender | None = None) -> None:
        from klachtwacht.runtime import App

        assert isinstance(app, App)
        self.app = app
        self.config: Config = app.config
        self.settings = settings_of(app.config)
        self.repair = repair
        self.progress = progress or (lambda _step: None)
        self.mailer = mailer  # for the canary probes; None: the configured SMTP server

    def run(self, day: date | None = None, now: datetime | None = None) -> RunResult:
        now = now or utcnow()
        today = day or local_date(now)
        since = datetime.combine(today - timedelta(weeks=self.settings.volume_weeks + 2), datetime.min.time(), tzinfo=now.tzinfo)
        self.progress("database")
        with self.app.sessions() as session:
            facts = load_facts(session, since)
        findings = store_findings(facts, self.settings, now, today)
        enqueued: list[int] = []
        if self.repair:
            stuck = [m.id for m in stuck_messages(facts, self.settings, now)]
            if stuck:
                self.app.enqueue(stuck)
                enqueued += stuck
            findings = [f.as_repaired() if f.kind == "stuck" else f for f in findings]
        else:
            findings = [replace(f, detail=f.detail.replace("; opnieuw in de wachtrij gezet.", ".")) if f.kind == "stuck" else f for f in findings]
        if self.config.register.backend == "zgw":
            self.progress("zaken")
            findings += self._zaken()
        for mailbox in self.config.mailboxes:
            self.progress("mailbox %s" % mailbox.name)
            found, new = self._mailbox(mailbox, facts, today, now)
            findings += found
            enqueued += new
        if self.config.reconcile.canary is not None:
            self.progress("canary")
            findings += self._canary(today, now)
        self.progress("volumes")
        volumes = channel_volumes(facts, self.settings, today, [m.name for m in self.config.mailboxes])
        findings += volume_findings(volumes, facts, self.settings, today)
        if self.config.reconcile.retention:
            self.progress("retention")
            with self.app.sessions.begin() as session:
                kept = apply_retention(session, self.config.reconcile.retention, today, dry_run=not self.repair)
            removal = kept.finding()
            if removal is not None:
                findings.append(removal)
        report = Report(today, tuple(findings), tuple(volumes))
        log.info("reconcile %s: %d findings (%s)", today, len(findings), "clean" if report.clean else "not clean")
        return RunResult(report, tuple(volumes), tuple(enqueued))

    def _canary(self, today: date, now: datetime) -> list[Finding]:
        """Check the last probe of each mailbox, then (when repairing) send tonight's."""
        canary = self.config.reconcile.canary
        assert canary is not None
        names = [m.name for m in self.config.mailboxes if m.canary]
        delay = timedelta(minutes=canary.max_delay_minutes)
        with self.app.sessions() as session:
            probes = last_probes(session, names, now - delay)
        findings = canary_findings(probes, names, delay)
        if self.repair:
            sent = send_probes(self.app.sessions, self.mailer or Mailer(self.config.smtp), self.config, today, now)
            for mailbox, reason in sent.failed:
                findings.append(Finding("canary_not_sent", "warning", "Het controlebericht voor %s kon niet worden verstuurd: %s." % (
                    mailbox, reason[:300]), mailbox))
        return findings

    def _zaken(self) -> list[Finding]:
        """Each zaak of the register still in the zaaksysteem (read-only GETs; a missing zaak is reported, never re-made)."""
        exists = getattr(self.app.services.seams.register if self.app.services.seams else None, "zaak_exists", None)
        if exists is None:
            return []
        with self.app.sessions() as session:
            refs = zaak_refs(session)
        return check_zaken(refs, exists)

    def _seen(self, mailbox: str) -> Callable[[str, int], set[int]]:
        def seen(folder: str, uidvalidity: int) -> set[int]:
            with self.app.sessions() as session:
                return set(session.scalars(select(Sighting.uid).where(
                    Sighting.mailbox == mailbox, Sighting.folder == folder, Sighting.uidvalidity == uidvalidity)))
        return seen

    def _mailbox(self, mailbox: MailboxConfig, facts: Facts, today: date, now: datetime) -> tuple[list[Finding], list[int]]:
        cursors = {c.folder: c for c in facts.cursors if c.mailbox == mailbox.name}
        sink = DatabaseSink(self.app.sessions, mailbox.name, on_new=self.app.enqueue if self.repair else None)
        stored: dict[str, int] = {}

        def store(folder: str, uidvalidity: int, fetched: list[FetchedMessage]) -> None:
            if not self.repair:
                return
            cursor = sink.load_cursor(folder) or Cursor(uidvalidity=uidvalidity, last_uid=0)
            stored[folder] = stored.get(folder, 0) + sink.store_batch(folder, cursor, fetched)

        window = today - timedelta(days=self.config.reconcile.window_days)
        try:
            if mailbox.graph is not None:
                from klachtwacht.reconcile.graphboxes import check_graph_mailbox

                result = check_graph_mailbox(mailbox, self.app.graph_source(mailbox), self._seen(mailbox.name), cursors, window, now, store)
            else:
                result = check_mailbox(mailbox, self.app.connection(mailbox), self._seen(mailbox.name), cursors, window, now, store)
        except KlachtwachtError as exc:  # a token provider that fails, for instance
            return [Finding("mailbox_unreachable", "critical", "Mailbox %s is niet bereikbaar: %s." % (mailbox.name, exc), mailbox.name)], []
        findings = list(result.findings)
        new = list(sink.new_message_ids)
        for gap in result.gaps:
            detail = "%d berichten in map %r van %s stonden op de server maar waren niet opgehaald (sinds %s)%s." % (
                len(gap.uids), gap.folder, mailbox.name, window.strftime("%d-%m-%Y"),
                "; nu opgehaald en in behandeling genomen" if self.repair else "")
            findings.append(Finding("mailbox_missing_messages", "warning", detail, mailbox.name, tuple(new), repaired=self.repair))
        unpolled = [f for f in mailbox.folders if f not in cursors and not result.findings]
        renumbered_pks: list[int] = []
        if self.repair and (result.renumbered or unpolled):
            self.app.poll(mailbox, seen=renumbered_pks)
            new += renumbered_pks
        for folder in result.renumbered:
            detail = "Map %r van %s heeft een nieuwe UIDVALIDITY: de server heeft de map opnieuw genummerd%s." % (
                folder, mailbox.name, "; de map is opnieuw gelezen, dubbele berichten zijn herkend aan hun inhoud" if self.repair else "")
            findings.append(Finding("uidvalidity_changed", "warning", detail, mailbox.name, tuple(renumbered_pks), repaired=self.repair))
        return findings, new
