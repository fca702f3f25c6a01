"""The central register: one small protocol, three backends (database, zgw, email)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from klachtwacht.config import Config
from klachtwacht.notices.mailer import MailSender

if TYPE_CHECKING:
    from klachtwacht.seams import LetterArchive
from klachtwacht.register.base import RegisterBackend, RegisterRequest
from klachtwacht.register.database import DatabaseRegister
from klachtwacht.register.entries import entry_for, format_number

__all__ = ["RegisterBackend", "RegisterRequest", "DatabaseRegister", "make_backend", "entry_for", "format_number"]


def make_backend(config: Config, mailer: MailSender, archive: LetterArchive | None = None) -> RegisterBackend:
    """The backend named by ``[register] backend``."""
    backend = config.register.backend
    if backend == "zgw":
        from klachtwacht.register.zgw import ZgwRegister

        return ZgwRegister.from_options(config.register.options, config.path)
    if backend == "email":
        from klachtwacht.register.email import EmailRegister

        return EmailRegister(mailer, config.smtp.sender.split("@", 1)[1], archive)
    return DatabaseRegister()
