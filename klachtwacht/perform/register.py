"""The register performer: a complaint into the configured register backend, once."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from klachtwacht.config import OrganisationConfig
from klachtwacht.db.models import RegisterEntry
from klachtwacht.perform.base import Job
from klachtwacht.register import RegisterBackend, RegisterRequest, entry_for
from rules.deadlines import complaint_terms
from rules.plan import Rules, citizen_of

__all__ = ["RegisterPerformer"]


class RegisterPerformer:
    """``find`` asks the backend for an earlier registration; ``perform`` registers."""

    settle_seconds = 0.0

    def __init__(self, backend: RegisterBackend, organisations: Mapping[str, OrganisationConfig], rules: Rules) -> None:
        self.backend = backend
        #: The e-mail register without a letter archive cannot look: its resends after doubt are logged.
        self.can_find = bool(getattr(backend, "can_find", True))
        self.organisations = organisations
        self.rules = rules

    def request(self, job: Job) -> RegisterRequest:
        """The request for ``job``, its register entry (and number) made now when it has none yet."""
        view = job.message
        org = self.organisations[job.recipient] if job.recipient in self.organisations else self.organisations[str(job.payload["organisation"])]
        entry = entry_for(view.sessions, view.pk, org, view.received_at, self.backend.name, job.payload.get("route"))
        citizen = citizen_of(view.parsed, self.rules)
        return RegisterRequest(
            message_pk=view.pk,
            number=entry.number,
            organisation=org,
            received_at=view.received_at,
            terms=complaint_terms(view.received_at),
            subject=view.parsed.subject,
            sender_address=citizen.address if citizen else None,
            sender_name=citizen.name if citizen else "",
            message_id=view.message_id,
            mailboxes=view.mailboxes,
            raw=view.raw(),
        )

    def find(self, job: Job) -> str | None:
        return self.backend.find(self.request(job))

    def perform(self, job: Job) -> str | None:
        return self.backend.create(self.request(job))

    def record(self, session: Session, job: Job, ref: str | None) -> None:
        session.execute(update(RegisterEntry).where(RegisterEntry.message_pk == job.message.pk).values(status="open", external_ref=ref))

    def quota(self, job: Job) -> tuple[str, int] | None:
        return None
