"""The typed seams between the flow and the outside world, one small protocol each.

Every backend the flow talks to is reached through one of these, so a test
(or another deployment) can put its own in: the classifier, the register
(:class:`klachtwacht.register.RegisterBackend`), the mailer, the archive of
sent letters and, for IMAP logins, the token provider
(:class:`ingest.tokens.TokenProvider`). Test doubles of each live in
:mod:`klachtwacht.doubles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from classifiers.records import Classification
from ingest.records import ParsedMessage
from ingest.tokens import TokenProvider
from klachtwacht.notices.mailer import MailSender
from klachtwacht.register.base import RegisterBackend

__all__ = ["ClassifierMeta", "ClassifierSeam", "MailSender", "LetterArchive", "Seams", "TokenProvider", "RegisterBackend"]


class ClassifierMeta(Protocol):
    @property
    def register_threshold(self) -> float: ...

    @property
    def review_threshold(self) -> float: ...


class ClassifierSeam(Protocol):
    """Judges a parsed message (:class:`classifiers.classifier.Classifier` is the real one)."""

    @property
    def meta(self) -> ClassifierMeta: ...

    def classify_parsed(self, parsed: ParsedMessage) -> Classification: ...


class LetterArchive(Protocol):
    """Where a copy of every letter can be read back: ``find`` answers whether one with this Message-ID is there.

    Raises :class:`~klachtwacht.errors.RetryableError` when it cannot be
    asked now (then nothing is sent: a doubt is settled later, not guessed).
    """

    #: A copy younger than this may still be on its way to the archive.
    settle_seconds: float

    def find(self, message_id: str) -> bool: ...


@dataclass(frozen=True)
class Seams:
    """The backends of one running flow."""

    classifier: ClassifierSeam
    register: RegisterBackend
    mailer: MailSender
    archive: LetterArchive | None = None  # None: no copy to look in; resends after doubt are logged
