"""Sending the night's probes: one signed mail per mailbox with ``canary = true``, through the configured SMTP server.

Each probe is written to ``canary_probes`` before it is sent (so the step that
recognises it always finds it) and removed again when the SMTP server does
not take it. One probe per mailbox and night: a second run of the same night
sends nothing more.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.canary.token import HEADER, Token, sign
from klachtwacht.config import Config, MailboxConfig
from klachtwacht.errors import NoticeRejected, NoticeUnavailable
from klachtwacht.notices.mailer import MailSender, OutgoingMail
from klachtwacht.reconcile.models import CanaryProbe

__all__ = ["ProbesSent", "send_probes", "probe_mail"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbesSent:
    sent: tuple[str, ...]  # mailboxes that got a probe now
    failed: tuple[tuple[str, str], ...]  # (mailbox, reason) the SMTP server did not take


def probe_mail(config: Config, mailbox: MailboxConfig, header: str, nonce: str) -> OutgoingMail:
    """The probe for ``mailbox``: a short Dutch text and the token header; nothing personal."""
    domain = config.smtp.sender.split("@", 1)[1]
    text = (
        "Dit is een automatisch controlebericht van klachtwacht voor de mailbox %s.\n\n"
        "Het bewijst elke nacht dat mail deze mailbox bereikt en door klachtwacht wordt gelezen. "
        "U hoeft er niets mee te doen; klachtwacht herkent het en verwerkt het niet als bericht van een inwoner.\n" % mailbox.name
    )
    return OutgoingMail(
        to=mailbox.address,
        subject="Controlebericht klachtwacht (%s)" % mailbox.name,
        text=text,
        message_id="<kw.canary.%s@%s>" % (nonce, domain),
        headers=((HEADER, header),),
        sender_name="klachtwacht",
    )


def send_probes(sessions: sessionmaker[Session], mailer: MailSender, config: Config, day: date, now: datetime) -> ProbesSent:
    """Send the probe of night ``day`` to every mailbox with ``canary = true`` that has none yet."""
    canary = config.reconcile.canary
    if canary is None:
        return ProbesSent((), ())
    key = canary.secret.reveal().encode("utf-8")
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    for mailbox in config.mailboxes:
        if not mailbox.canary:
            continue
        nonce = secrets.token_hex(16)
        try:
            with sessions.begin() as session:
                session.add(CanaryProbe(nonce=nonce, mailbox=mailbox.name, day=day, sent_at=now))
        except IntegrityError:
            continue  # this night's probe went out already
        try:
            mailer.send(probe_mail(config, mailbox, sign(key, Token(mailbox.name, now, nonce)), nonce))
        except (NoticeUnavailable, NoticeRejected) as exc:
            log.warning("canary probe for %s not sent: %s", mailbox.name, exc)
            with sessions.begin() as session:
                session.execute(delete(CanaryProbe).where(CanaryProbe.nonce == nonce))
            failed.append((mailbox.name, str(exc)))
            continue
        log.info("canary probe sent to mailbox %s", mailbox.name)
        sent.append(mailbox.name)
    return ProbesSent(tuple(sent), tuple(failed))
