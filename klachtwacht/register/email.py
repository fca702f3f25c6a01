"""The e-mail register: the original goes to the complaints team as an attached .eml.

For municipalities without a case system. The outside world cannot be asked
whether an earlier send arrived, so ``find`` knows nothing; a resend after a
crash carries the same deterministic Message-ID, which mail clients use to
recognise the duplicate.
"""

from __future__ import annotations

from klachtwacht.errors import ConfigError, NoticeRejected, NoticeUnavailable, RegisterUnavailable
from klachtwacht.notices.mailer import MailSender, OutgoingMail
from klachtwacht.register.base import RegisterRequest

__all__ = ["EmailRegister"]


class EmailRegister:
    name = "email"

    def __init__(self, mailer: MailSender, domain: str) -> None:
        self.mailer = mailer
        self.domain = domain

    def find(self, request: RegisterRequest) -> str | None:
        return None

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
            message_id=f"<kw.register.{request.message_pk}.{request.number}@{self.domain}>",
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
