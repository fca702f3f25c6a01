"""The canary check: did each mailbox's last probe arrive and get recognised in time?

The run of one night checks the newest probe of each mailbox that is older
than the allowed delay (the one the night before sent), then sends the
night's own probe (:mod:`klachtwacht.canary.probe`). A probe never
recognised means the channel is broken: mail does not reach the mailbox, or
klachtwacht does not read it. A silent channel cannot be seen statistically
on the first night; this is what sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from klachtwacht.reconcile.findings import Finding
from klachtwacht.reconcile.models import CanaryProbe

__all__ = ["ProbeFact", "last_probes", "canary_findings"]


@dataclass(frozen=True, slots=True)
class ProbeFact:
    mailbox: str
    sent_at: datetime
    seen_at: datetime | None
    message_pk: int | None


def last_probes(session: Session, mailboxes: Iterable[str], before: datetime) -> dict[str, ProbeFact]:
    """The newest probe of each mailbox sent before ``before``."""
    out: dict[str, ProbeFact] = {}
    names = list(mailboxes)
    if not names:
        return out
    rows = session.scalars(
        select(CanaryProbe).where(CanaryProbe.mailbox.in_(names), CanaryProbe.sent_at < before).order_by(CanaryProbe.sent_at)
    )
    for row in rows:
        out[row.mailbox] = ProbeFact(row.mailbox, row.sent_at, row.seen_at, row.message_pk)
    return out


def _at(moment: datetime) -> str:
    return moment.strftime("%d-%m-%Y %H:%M UTC")


def canary_findings(probes: dict[str, ProbeFact], mailboxes: Iterable[str], max_delay: timedelta) -> list[Finding]:
    """A critical finding per mailbox whose last probe never arrived; a warning when it arrived late."""
    out = []
    minutes = max_delay.total_seconds() / 60
    for mailbox in mailboxes:
        probe = probes.get(mailbox)
        if probe is None:  # no probe old enough yet: the first night
            continue
        if probe.seen_at is None:
            detail = ("Kanaal lijkt onderbroken: de controleberichten van %s kwamen niet aan. Het controlebericht van %s is niet "
                      "binnen %.0f minuten herkend; controleer of de mailbox mail ontvangt en of klachtwacht hem leest."
                      % (mailbox, _at(probe.sent_at), minutes))
            out.append(Finding("canary_missing", "critical", detail, mailbox))
        elif probe.seen_at - probe.sent_at > max_delay:
            late = (probe.seen_at - probe.sent_at).total_seconds() / 60
            detail = "Het controlebericht van %s (verstuurd %s) kwam pas na %.0f minuten aan; de limiet is %.0f minuten." % (
                mailbox, _at(probe.sent_at), late, minutes)
            out.append(Finding("canary_missing", "warning", detail, mailbox, (probe.message_pk,) if probe.message_pk else ()))
    return out
