"""Test doubles of every seam (:mod:`klachtwacht.seams`), as dramatiq ships its stub broker.

For unit tests of the flow's logic; the flow tests themselves use the real
servers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from classifiers.records import Classification
from ingest.records import ParsedMessage
from klachtwacht.errors import NoticeRejected
from klachtwacht.notices.mailer import OutgoingMail
from klachtwacht.register.base import RegisterRequest

__all__ = ["FixedClassifier", "MemoryRegister", "MemoryMailer", "MemoryArchive"]


@dataclass(frozen=True)
class _Meta:
    register_threshold: float = 0.85
    review_threshold: float = 0.15
    model_id: str = "fixed@1"


@dataclass
class FixedClassifier:
    """Gives every message the same label with probability ``p``."""

    label: str = "klacht"
    p: float = 0.97
    subtype: str | None = None
    meta: _Meta = field(default_factory=_Meta)

    def classify_parsed(self, parsed: ParsedMessage) -> Classification:
        rest = (1.0 - self.p) / 2
        scores = {"klacht": rest, "beleidsvraag": rest, "overig": rest, self.label: self.p}
        return Classification(self.label, self.p, scores, ("vast label",), self.meta.model_id, self.subtype)


class MemoryRegister:
    """A register in memory: ``entries`` maps register numbers to their requests."""

    name = "memory"

    def __init__(self) -> None:
        self.entries: dict[str, RegisterRequest] = {}
        self.calls = 0

    def find(self, request: RegisterRequest) -> str | None:
        return request.number if request.number in self.entries else None

    def create(self, request: RegisterRequest) -> str:
        self.calls += 1
        self.entries[request.number] = request
        return request.number


class MemoryMailer:
    """Keeps what it is asked to send; addresses in ``refuse`` are refused for good."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.sent: list[OutgoingMail] = []
        self.refuse = refuse
        self._lock = threading.Lock()

    def send(self, mail: OutgoingMail) -> None:
        if mail.to in self.refuse:
            raise NoticeRejected("refused (test double)")
        with self._lock:
            self.sent.append(mail)


class MemoryArchive:
    """An archive that holds every letter of a :class:`MemoryMailer`."""

    settle_seconds = 0.0

    def __init__(self, mailer: MemoryMailer) -> None:
        self.mailer = mailer

    def find(self, message_id: str) -> bool:
        return any(mail.message_id == message_id for mail in self.mailer.sent)
