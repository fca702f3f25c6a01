"""The letter performer: the sender's letter, the secretary's notice, the forward to a team.

Every letter has a deterministic Message-ID (per message, effect and
recipient), so ``find`` can look for it in the letter archive, where the
mailer puts a copy of every letter in the same SMTP transaction. Without an
archive ``find`` knows nothing, and the runner logs every resend after doubt.
The sender's letter counts against the daily quota per address, taken when it
is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from klachtwacht.config import OrganisationConfig
from klachtwacht.metrics import counters
from klachtwacht.notices.mailer import OutgoingMail
from klachtwacht.notices.render import NoticeRenderer
from klachtwacht.perform.base import Job
from klachtwacht.seams import LetterArchive, MailSender
from rules.deadlines import local_date
from rules.plan import Kind, Rules, citizen_of

__all__ = ["LetterPerformer", "letter_message_id", "DECIDED_BY"]

DECIDED_BY = {"model": "het model", "rule": "een regel", "reviewer": "een medewerker"}


def letter_message_id(message_pk: int, kind: str, recipient: str, domain: str) -> str:
    """``<kw.notice_sender.12.3f1c...@domain>``: the same for every attempt of one letter."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"<kw.{kind}.{message_pk}.{digest}@{domain}>"


class LetterPerformer:
    def __init__(
        self,
        mailer: MailSender,
        renderer: NoticeRenderer,
        organisations: Mapping[str, OrganisationConfig],
        rules: Rules,
        *,
        archive: LetterArchive | None,
        per_sender_per_day: int,
    ) -> None:
        self.mailer = mailer
        self.renderer = renderer
        self.organisations = organisations
        self.rules = rules
        self.archive = archive
        self.per_sender_per_day = per_sender_per_day
        self.domain = rules.sender.split("@", 1)[1]
        self.can_find = archive is not None
        self.settle_seconds = archive.settle_seconds if archive is not None else 0.0

    def message_id(self, job: Job) -> str:
        return letter_message_id(job.message.pk, job.kind, job.recipient, self.domain)

    def find(self, job: Job) -> str | None:
        if self.archive is None:
            return None
        message_id = self.message_id(job)
        return message_id if self.archive.find(message_id) else None

    def perform(self, job: Job) -> str | None:
        mail = self.letter(job)
        self.mailer.send(mail)
        counters.NOTICES.labels(kind=str(job.kind)).inc()
        return mail.message_id

    def record(self, session: Session, job: Job, ref: str | None) -> None:
        return None

    def quota(self, job: Job) -> tuple[str, int] | None:
        return (job.recipient, self.per_sender_per_day) if job.kind == Kind.NOTICE_SENDER else None

    def letter(self, job: Job) -> OutgoingMail:
        """The mail of ``job``, rendered from the organisation's template."""
        view = job.message
        org = self.organisations[str(job.payload["organisation"])]
        rendered = self.renderer.render(org.name, str(job.payload["template"]), self.context(job, org))
        attachments: tuple[tuple[str, str, str, bytes], ...] = ()
        if job.kind in (Kind.FORWARD_BEZWAAR, Kind.FORWARD_WOO):
            attachments = (("origineel.eml", "message", "rfc822", view.raw()),)
        return OutgoingMail(
            to=job.recipient,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=self.message_id(job),
            in_reply_to=view.message_id,
            references=tuple(view.parsed.references) + ((view.message_id,) if view.message_id else ()),
            attachments=attachments,
            sender_name=org.display_name,
        )

    def context(self, job: Job, org: OrganisationConfig) -> dict[str, Any]:
        view = job.message
        citizen = citizen_of(view.parsed, self.rules)
        entry = view.entry()
        secretary = job.kind == Kind.NOTICE_SECRETARY
        mailbox = job.payload.get("mailbox")
        return {
            "org": org,
            "received": local_date(view.received_at),
            "subject": view.parsed.subject[:200],
            "sender_name": citizen.name if citizen and citizen.name else None,
            "mailbox": str(mailbox) if secretary and mailbox else ", ".join(view.mailboxes),
            "decided_by_text": DECIDED_BY.get(view.decided_by or "model", "het model"),
            "number": entry.number if entry else None,
            "due": entry.due if entry else None,
            "sender_notified": secretary and view.performed(Kind.NOTICE_SENDER),
        }
