"""The pipeline step that recognises a probe: right after parsing, before the model sees it.

It wraps the classify step (state ``parsed``). A message whose probe header
holds a valid token goes to ``canary``, a final state: never classified,
registered, reviewed or notified, and left out of the volumes and metrics.
The token must be signed with the configured key, not expired, name a
mailbox that sends probes and that the message was seen in, and match a
probe klachtwacht sent that no other message claimed. Anything less is
never trusted: the message is classified as ordinary mail, with a note in
its defects.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from klachtwacht.canary.token import check
from klachtwacht.config import Config
from klachtwacht.db.models import MessageState, utcnow
from klachtwacht.errors import RetryableError
from klachtwacht.pipeline import BatchStep, Step, StepContext, StepResult
from klachtwacht.reconcile.models import CanaryProbe

__all__ = ["CanaryGate"]

log = logging.getLogger(__name__)


class CanaryGate:
    """``step`` and ``many`` replace the classify step and its batch form."""

    def __init__(self, config: Config, classify: Step, classify_many: BatchStep) -> None:
        assert config.reconcile.canary is not None
        self.canary = config.reconcile.canary
        self.mailboxes = frozenset(m.name for m in config.mailboxes if m.canary)
        self.classify = classify
        self.classify_many = classify_many

    def step(self, ctx: StepContext) -> StepResult:
        verdict = self.verdict(ctx)
        if isinstance(verdict, StepResult):
            return verdict
        return _noted(ctx, self.classify(ctx), verdict)

    def many(self, batch: list[StepContext]) -> list[StepResult]:
        verdicts = [self.verdict(ctx) for ctx in batch]
        rest = [ctx for ctx, verdict in zip(batch, verdicts) if not isinstance(verdict, StepResult)]
        classified = iter(self.classify_many(rest) if rest else [])
        return [verdict if isinstance(verdict, StepResult) else _noted(ctx, next(classified), verdict) for ctx, verdict in zip(batch, verdicts)]

    def verdict(self, ctx: StepContext) -> StepResult | str | None:
        """The step result of a recognised probe; else the reason a probe header is not trusted; None without one."""
        value = (ctx.message.parsed or {}).get("canary")
        if not isinstance(value, str) or not value:
            return None
        now = utcnow()
        token = check(self.canary.secret.reveal().encode("utf-8"), value, now, timedelta(hours=self.canary.valid_hours))
        pk = ctx.message.id
        if isinstance(token, str):
            return self._distrust(pk, token)
        if token.mailbox not in self.mailboxes:
            return self._distrust(pk, "canary header for mailbox %s, which sends no probes" % token.mailbox)
        if token.mailbox not in {s.mailbox for s in ctx.message.sightings}:
            return self._distrust(pk, "canary header of mailbox %s on a message not seen there" % token.mailbox)
        probe = ctx.session.get(CanaryProbe, token.nonce)
        if probe is None or probe.mailbox != token.mailbox:
            return self._distrust(pk, "canary header with a nonce no probe was sent with")
        if probe.message_pk is not None and probe.message_pk != pk:
            return self._distrust(pk, "canary header already used by message %d (a replay)" % probe.message_pk)
        nonce = token.nonce

        def seen(session: Session) -> None:
            done = session.execute(
                update(CanaryProbe)
                .where(CanaryProbe.nonce == nonce, or_(CanaryProbe.message_pk.is_(None), CanaryProbe.message_pk == pk))
                .values(seen_at=now, message_pk=pk)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise RetryableError("canary probe %s was claimed by another message a moment ago" % nonce)

        log.info("message %d: canary probe of %s recognised", pk, token.mailbox)
        return StepResult(MessageState.CANARY, {}, reason="controlebericht van %s herkend" % token.mailbox, then=seen)

    @staticmethod
    def _distrust(pk: int, reason: str) -> str:
        log.info("message %d: %s; handled as ordinary mail", pk, reason)
        return "%s; handled as ordinary mail" % reason


def _noted(ctx: StepContext, result: StepResult, note: str | None) -> StepResult:
    """``result`` with ``note`` added to the message's defects (when there is one)."""
    if note is None:
        return result
    return replace(result, values={**result.values, "defects": list(ctx.message.defects or []) + [note]})
