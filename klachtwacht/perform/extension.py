"""The letter about an extension of the term (Awb 9:11 lid 2): the sender's letter with the new date and the reason.

It is a :class:`~klachtwacht.perform.letters.LetterPerformer` whose template
gets the extension from the outbox row's payload, and whose Message-ID
names the extension, so that each extension's letter is found in the
archive on its own and never sent twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from klachtwacht.config import OrganisationConfig
from klachtwacht.perform.base import Job
from klachtwacht.perform.letters import LetterPerformer, letter_message_id

__all__ = ["ExtensionLetters"]


class ExtensionLetters(LetterPerformer):
    def message_id(self, job: Job) -> str:
        return letter_message_id(job.message.pk, job.kind.replace(":", "-"), job.recipient, self.domain)

    def quota(self, job: Job) -> tuple[str, int] | None:
        return None  # a letter the law requires never waits for the daily quota

    def context(self, job: Job, org: OrganisationConfig) -> dict[str, Any]:
        payload = job.payload
        return {
            **super().context(job, org),
            "previous_due": date.fromisoformat(str(payload["previous_due"])),
            "extended_due": date.fromisoformat(str(payload["extended_due"])),
            "reason": str(payload["reason"]),
            "consent": bool(payload["consent"]),
        }
