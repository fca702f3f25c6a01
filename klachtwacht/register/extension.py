"""Extending a complaint's term (Awb 9:11 lid 2), and the letter that tells the complainant.

"Het bestuursorgaan kan de afhandeling voor ten hoogste vier weken verdagen.
Verder uitstel is mogelijk voor zover de klager daarmee schriftelijk
instemt." :func:`plan_extension` is that rule, pure. :func:`extend_entry` is
the edge: it records the new due date and the letter as one outbox row
(``notice_extension:<n>``, one per extension) in one transaction, then works
the row off with the letter performer. Asking for the same extension again
records nothing new and sends nothing twice; a letter that did not go out
is sent by running the same command again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest.autosignals import is_robot_address
from ingest.records import parsed_from_dict
from klachtwacht.config import Config
from klachtwacht.db.models import Effect, Message, RegisterEntry, utcnow
from klachtwacht.effects import DONE, OPEN, PLANNED, SKIPPED
from klachtwacht.errors import KlachtwachtError, RetryableError
from klachtwacht.intake import insert_ignore
from klachtwacht.notices.mailer import MailSender
from klachtwacht.perform import Job, MessageView, Performer, work_off
from rules.deadlines import HANDLING, local_date, roll_forward
from rules.plan import Phase, Rules, citizen_of

log = logging.getLogger(__name__)

__all__ = ["Extension", "Extended", "ExtensionRefused", "plan_extension", "extend_entry", "EFFECT", "MAX_WEEKS", "MAX_WEEKS_WITH_CONSENT"]

#: The outbox kind of an extension's letter; the row's effect is ``notice_extension:<ordinal>``.
EFFECT = "notice_extension"
TEMPLATE = "sender_extension"
MAX_WEEKS = 4  # Awb 9:11 lid 2
MAX_WEEKS_WITH_CONSENT = 52  # a sanity bound on what a complainant may have agreed to


class ExtensionRefused(KlachtwachtError):
    """Raised when the law (or the command's arguments) does not allow the extension asked for."""


@dataclass(frozen=True)
class Extension:
    ordinal: int  # 1 for the first extension of this complaint
    previous_due: date
    extended_due: date
    weeks: int
    reason: str
    consent: bool

    def payload(self, organisation: str) -> dict[str, object]:
        return {
            "phase": Phase.LETTERS, "organisation": organisation, "template": TEMPLATE, "ordinal": self.ordinal,
            "previous_due": self.previous_due.isoformat(), "extended_due": self.extended_due.isoformat(),
            "weeks": self.weeks, "reason": self.reason, "consent": self.consent,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, object]) -> Extension:
        return cls(int(str(payload["ordinal"])), date.fromisoformat(str(payload["previous_due"])), date.fromisoformat(str(payload["extended_due"])),
                   int(str(payload["weeks"])), str(payload["reason"]), bool(payload["consent"]))


def plan_extension(received: date, due: date, extended_due: date | None, prior: Sequence[Extension], weeks: int, reason: str,
                   consent: bool) -> Extension:
    """The extension asked for, or the last one when it is the same; raises :class:`ExtensionRefused` when not allowed.

    The first extension runs from the end of the six-week term, at most four
    weeks (rolled forward to a working day); any further one, or a longer
    one, needs the complainant's written consent and runs from the extended
    date. ``prior`` are the extensions recorded with their letters (an entry
    extended before letters existed has ``extended_due`` and no prior).
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ExtensionRefused("give the reason with --reason: the letter to the complainant must say why the term is extended")
    last = prior[-1] if prior else None
    if last is not None and (last.weeks, last.reason, last.extended_due) == (weeks, reason, extended_due):
        return last  # the same extension asked for again
    limit = MAX_WEEKS_WITH_CONSENT if consent else MAX_WEEKS
    if not 1 <= weeks <= limit:
        more = "" if consent else "; a longer delay needs the complainant's written consent (--with-consent)"
        raise ExtensionRefused("--weeks must be from 1 to %d (Awb 9:11 lid 2)%s" % (limit, more))
    if extended_due is not None and not consent:
        raise ExtensionRefused("already extended to %s; a further delay needs the complainant's written consent (--with-consent, Awb 9:11 lid 2)"
                               % extended_due.isoformat())
    if extended_due is None:
        new_due = roll_forward(received + HANDLING + timedelta(weeks=weeks))
    else:
        new_due = roll_forward(extended_due + timedelta(weeks=weeks))
    ordinal = (last.ordinal if last else (1 if extended_due is not None else 0)) + 1
    return Extension(ordinal, extended_due or due, new_due, weeks, reason, consent)


@dataclass(frozen=True)
class Extended:
    """What ``register extend`` did."""

    number: str
    due: date
    extension: Extension
    new: bool  # False: the same extension was asked for again
    letter: str  # the letter's outbox status: done, skipped (with ``letter_detail``), planned (not sent yet) or rejected
    letter_detail: str | None


def _rules(config: Config) -> Rules:
    """The few rules a letter needs: our sender address and our own domains (a colleague's forward)."""
    addresses = [config.smtp.sender] + [m.address for m in config.mailboxes] + [m.secretary for m in config.mailboxes if m.secretary]
    organisations = config.organisations or (config.organisation("default"),)
    return Rules(thresholds={}, organisations={}, default_organisation=organisations[0].name, sender=config.smtp.sender,
                 internal_domains=frozenset(a.rsplit("@", 1)[1].lower() for a in addresses))


def extend_entry(sessions: sessionmaker[Session], config: Config, number: str, weeks: int, reason: str, *, consent: bool = False,
                 mailer: MailSender | None = None) -> Extended:
    """Record the extension of register entry ``number`` and send its letter (see the module's note).

    Raises :class:`ExtensionRefused` when the law does not allow it and
    :class:`KlachtwachtError` when there is no such entry.
    """
    rules = _rules(config)
    with sessions.begin() as session:
        entry = session.scalar(select(RegisterEntry).where(RegisterEntry.number == number))
        if entry is None:
            raise KlachtwachtError("no register entry %s" % number)
        if entry.status == "closed":
            raise ExtensionRefused("%s is closed: its term cannot be extended any more" % number)
        message = session.get(Message, entry.message_pk)
        assert message is not None and message.parsed is not None
        rows = session.scalars(select(Effect).where(Effect.message_pk == entry.message_pk, Effect.effect.startswith(EFFECT + ":")))
        prior = sorted((Extension.from_payload(dict(r.payload or {})) for r in rows), key=lambda e: e.ordinal)
        extension = plan_extension(local_date(entry.received_at), entry.due, entry.extended_due, prior, weeks, reason, consent)
        new = extension not in prior
        citizen = citizen_of(parsed_from_dict(message.parsed), rules)
        recipient = citizen.address if citizen is not None and not is_robot_address(citizen) else ""
        kind = "%s:%d" % (EFFECT, extension.ordinal)
        if new:
            entry.extended_due = extension.extended_due
            now = utcnow()
            skip = None if recipient else "geen bruikbaar adres van de klager: stuur de brief over de verdaging zelf"
            insert_ignore(session, Effect, {
                "message_pk": entry.message_pk, "effect": kind, "recipient": recipient or "-", "attempts": 0, "started_at": now,
                "status": SKIPPED if skip else PLANNED, "detail": skip, "payload": extension.payload(entry.organisation),
                **({"done_at": now} if skip else {}),
            }, ["message_pk", "effect", "recipient"])
        row = session.scalar(select(Effect).where(Effect.message_pk == entry.message_pk, Effect.effect == kind))
        assert row is not None
        effect_id, status, payload, to = row.id, row.status, dict(row.payload or {}), row.recipient
        view = MessageView(sessions, message.id, message.message_id, message.received_at, message.decided_by, message.blob_sha256,
                           parsed_from_dict(message.parsed), tuple(dict.fromkeys(s.mailbox for s in message.sightings)))
        result = (entry.number, entry.due)
    if status in OPEN:
        try:
            status = work_off(sessions, Job(effect_id, kind, to, payload, view), _performer(config, rules, mailer))
        except RetryableError as exc:  # the row stays open (or in doubt): the same command sends it later, once
            log.warning("%s: the letter about extension %d was not sent: %s", number, extension.ordinal, exc)
            status = PLANNED
    with sessions() as session:
        detail = session.scalar(select(Effect.detail).where(Effect.id == effect_id))
    return Extended(result[0], result[1], extension, new, status, None if status == DONE else detail)


def _performer(config: Config, rules: Rules, mailer: MailSender | None) -> Performer:
    from klachtwacht.notices.archive import ImapArchive
    from klachtwacht.notices.mailer import Mailer
    from klachtwacht.notices.render import NoticeRenderer
    from klachtwacht.perform.extension import ExtensionLetters

    organisations = config.organisations or (config.organisation("default"),)
    archive = ImapArchive(config.archive) if config.archive else None
    mailer = mailer or Mailer(config.smtp, archive=config.archive.address if config.archive else None)
    return ExtensionLetters(mailer, NoticeRenderer(organisations, config.path), {o.name: o for o in organisations}, rules,
                            archive=archive, per_sender_per_day=config.rules.notices_per_sender_per_day)
