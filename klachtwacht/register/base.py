"""The register protocol: one small interface for every backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from klachtwacht.config import OrganisationConfig
from rules.deadlines import ComplaintTerms

__all__ = ["RegisterRequest", "RegisterBackend"]


@dataclass(frozen=True)
class RegisterRequest:
    """Everything a backend needs to register one complaint."""

    message_pk: int
    number: str  # our register number, also the external identification
    organisation: OrganisationConfig
    received_at: datetime
    terms: ComplaintTerms
    subject: str
    sender_address: str | None
    sender_name: str
    message_id: str | None
    mailboxes: tuple[str, ...]
    raw: bytes  # the original message, as fetched


class RegisterBackend(Protocol):
    """A place where complaints are registered.

    ``find`` looks in the outside world for an earlier registration of the
    same request (after a crash between the call and its record) and returns
    its reference; ``create`` registers and returns the reference. Both raise
    :class:`klachtwacht.errors.RegisterUnavailable` for passing failures.
    """

    name: str

    def find(self, request: RegisterRequest) -> str | None: ...

    def create(self, request: RegisterRequest) -> str: ...
