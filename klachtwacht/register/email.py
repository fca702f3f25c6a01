"""The e-mail register: the original goes to the complaints team as an attached .eml.

For municipalities without a case system. With a letter archive configured
``find`` searches it for the mail's Message-ID; without one the outside world
cannot be asked whether an earlier send arrived, and a resend after a crash
carries the same deterministic Message-ID, which mail clients use to
recognise the duplicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klachtwacht.errors import ConfigError, NoticeRejected, NoticeUnavailable, RegisterUnavailable
from klachtwacht.notices.mailer import MailSender, OutgoingMail
from klachtwacht.register.base import RegisterRequest

if TYPE_CHECKING:
    from klachtwacht.seams import LetterArchive

__all__ = ["EmailRegister"]


class EmailRegister:
    name = "email"

    def __init__(self, mailer: MailSender, domain: str, archive: LetterArchive | None = None) -> None:
        self.mailer = mailer
        self.domain = domain
        self.archive = archive

    @property
    def can_find(self) -> bool:
        return self.archive is not None

    def message_id(self, request: RegisterRequest) -> str:
        return f"<kw.register.{request.message_pk}.{request.number}@{self.domain}>"

    def find(self, request: RegisterRequest) -> str | None:
        """The mail's Message-ID when its copy is in the letter archive; without an archive nothing can be known."""
        message_id = self.message_id(request)
        return message_id if self.archive is not None and self.archive.find(message_id) else None

    def create(self, request: RegisterRequest) -> str:
        to = request.organisation.complaints_address
        if not to:
            raise ConfigError("", f"organisations.{request.organisation.name}.complaints_address", "the email register needs an address for the complaints team")
        mailboxes = ", ".join(request.mailboxes)
        text = (
            f"Klacht {request.number}, ontvangen op {request.terms.received:%d-%m-%Y} in {mailboxes}.\n"
            f"Uiterste afhandeldatum (Awb 9:11): {request.terms.due:%d-%m-%Y}.\n"
            f"Weigeren kan tot (Awb 9:8): {request.terms.refusal_due:%d-%m-%Y}.\n\n"
            "Het oorspronkelijke bericht zit als bijlage bij deze e-mail.\n"
        )
        mail = OutgoingMail(
            to=to,
            subject=f"[{request.number}] Klacht: {request.subject}"[:250],
            text=text,
            message_id=self.message_id(request),
            in_reply_to=request.message_id,
            references=(request.message_id,) if request.message_id else (),
            attachments=((f"{request.number}.eml", "message", "rfc822", request.raw),),
        )
        try:
            self.mailer.send(mail)
        except NoticeUnavailable as exc:
            raise RegisterUnavailable(f"cannot mail the complaints team: {exc}", retry_after=exc.retry_after) from exc
        except NoticeRejected as exc:
            raise RegisterUnavailable(f"the complaints team's address refused the mail: {exc}") from exc
        return mail.message_id
