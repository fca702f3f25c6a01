"""Sending mail over SMTP: notices and forwards, loop-safe and idempotent where it can be.

Every message we send carries ``Auto-Submitted: auto-replied`` (RFC 3834),
``X-Auto-Response-Suppress: All``, our own loop header, ``In-Reply-To`` and
``References`` to the original, and a deterministic ``Message-ID``, so that a
resend after a lost 250 reply is recognisable as the same mail.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr
from typing import Protocol

from klachtwacht.config import SmtpConfig
from klachtwacht.db.models import utcnow
from klachtwacht.errors import NoticeRejected, NoticeUnavailable

__all__ = ["OutgoingMail", "Mailer", "MailSender", "LOOP_HEADER"]

log = logging.getLogger(__name__)

LOOP_HEADER = "X-Klachtwacht-Loop"
#: A connection unused this long is not reused (servers close idle sessions after a few minutes).
KEEP_SECONDS = 30.0


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    message_id: str  # with angle brackets
    html: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[tuple[str, str, str, bytes], ...] = ()  # (filename, maintype, subtype, data)
    sender_name: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # further header fields (the canary probe's token)


class MailSender(Protocol):
    """The mailer seam: sends one mail (:class:`Mailer` over SMTP; a test double in :mod:`klachtwacht.doubles`).

    Raises :class:`~klachtwacht.errors.NoticeUnavailable` for passing
    failures and :class:`~klachtwacht.errors.NoticeRejected` for a refusal.
    """

    def send(self, mail: OutgoingMail) -> None: ...


def _attach_original(message: EmailMessage, filename: str, raw: bytes) -> None:
    """Attach an original message as message/rfc822, or as a plain .eml file when it cannot be re-serialised."""
    try:
        original = BytesParser(policy=policy.default).parsebytes(raw)
        original.as_bytes()  # fails early on mail that cannot be written back
        message.add_attachment(original, filename=filename)
    except Exception:  # malformed mail: keep its exact bytes instead
        message.add_attachment(raw, maintype="application", subtype="octet-stream", filename=filename)


class Mailer:
    """Builds and sends :class:`OutgoingMail` through the configured SMTP server."""

    def __init__(self, config: SmtpConfig, *, archive: str | None = None) -> None:
        self.config = config
        #: Gets a copy of every mail as a second envelope recipient of the same transaction (a Bcc).
        self.archive = archive
        self._local = threading.local()

    def build(self, mail: OutgoingMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((mail.sender_name, self.config.sender)) if mail.sender_name else self.config.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = mail.message_id
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
        message[LOOP_HEADER] = self.config.sender
        if mail.in_reply_to:
            message["In-Reply-To"] = mail.in_reply_to
        if mail.references:
            message["References"] = " ".join(mail.references)
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        for filename, maintype, subtype, data in mail.attachments:
            if maintype == "message" and subtype == "rfc822":
                _attach_original(message, filename, data)
            else:
                message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        return message

    def send(self, mail: OutgoingMail) -> None:
        """Send ``mail``; NoticeUnavailable for passing failures, NoticeRejected for a 5xx refusal.

        Each thread keeps its connection open between notices (a backlog
        costs one EHLO/STARTTLS/AUTH, not one per letter). A kept connection
        is checked with NOOP first; a send is never repeated blindly, so a
        lost reply after DATA cannot turn into a second letter here.
        """
        cfg = self.config
        message = self.build(mail)
        recipients = [mail.to] + ([self.archive] if self.archive and self.archive.lower() != mail.to.lower() else [])
        sending = False  # once DATA may have started, a lost connection leaves the letter in doubt
        try:
            client = self._connection()
            try:
                sending = True
                refused = client.send_message(message, from_addr=cfg.sender, to_addrs=recipients)
            except BaseException:
                self._drop()  # after any failure the session's state is unknown: start afresh next time
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(400 <= code < 500 for code in codes):
                raise NoticeUnavailable(f"SMTP server deferred the recipient (codes {codes})", doubtful=False) from exc
            raise NoticeRejected(f"SMTP server refused the recipient (codes {codes})") from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:  # the server said no: nothing went out
                raise NoticeUnavailable(f"SMTP server answered {exc.smtp_code}: try again later", doubtful=False) from exc
            if exc.smtp_code in (530, 535, 534):
                raise NoticeUnavailable(f"SMTP authentication failed ({exc.smtp_code}): check smtp.username/password", doubtful=False) from exc
            raise NoticeRejected(f"SMTP server refused the mail ({exc.smtp_code})") from exc
        except (smtplib.SMTPException, OSError, socket.timeout, ssl.SSLError) as exc:
            raise NoticeUnavailable(f"SMTP server {cfg.host}:{cfg.port} unreachable: {type(exc).__name__}: {exc}", doubtful=sending) from exc
        if mail.to in refused:  # only the archive took it
            code = refused[mail.to][0]
            if 400 <= code < 500:
                raise NoticeUnavailable(f"SMTP server deferred the recipient ({code})", doubtful=False)
            raise NoticeRejected(f"SMTP server refused the recipient ({code})")
        if self.archive and self.archive in refused:
            log.warning("SMTP server refused the archive copy of a letter (%d): a resend after doubt cannot be checked", refused[self.archive][0])

    def _connection(self) -> smtplib.SMTP:
        """This thread's open connection, checked with NOOP, or a new one."""
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        if client is not None and time.monotonic() - self._local.used < KEEP_SECONDS:
            try:
                if client.noop()[0] == 250:
                    self._local.used = time.monotonic()
                    return client
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()
        client = self._connect()
        self._local.client, self._local.used = client, time.monotonic()
        return client

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context(cafile=cfg.ca_file)
        if cfg.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            client.ehlo()
            if cfg.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if cfg.username:
                client.login(cfg.username, cfg.password.reveal() if cfg.password else "")
        except BaseException:
            client.close()
            raise
        return client

    def _drop(self) -> None:
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
