"""Mailbox completeness for a Graph mailbox: the folder's messages within the window against the sightings.

Per folder, read-only: ``GET …/mailFolders/{folder}/messages`` received since
the start of the window, ids only. A message whose uid
(:func:`ingest.graph.message_uid` of its id) has no sighting was never
ingested; it is fetched now (``$value``; the caller stores it) and reported,
as :func:`klachtwacht.reconcile.mailboxes.check_mailbox` does over IMAP. A
Graph folder is never renumbered: a forgotten delta state is the poller's
new epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timezone

from ingest.graph import GRAPH_UIDVALIDITY, GraphMailbox, message_uid
from ingest.imap import FetchedMessage
from klachtwacht.config import MailboxConfig
from klachtwacht.errors import KlachtwachtError
from klachtwacht.reconcile.facts import CursorFact
from klachtwacht.reconcile.findings import Finding
from klachtwacht.reconcile.mailboxes import CHUNK, FolderGap, MailboxCheck, _ago, _reason

__all__ = ["check_graph_mailbox"]


def check_graph_mailbox(
    mailbox: MailboxConfig,
    source: GraphMailbox,
    seen: Callable[[str, int], set[int]],
    cursors: dict[str, CursorFact],
    window_start: date,
    now: datetime,
    store: Callable[[str, int, list[FetchedMessage]], None],
) -> MailboxCheck:
    """Compare the messages of each folder received since ``window_start`` with the sightings; fetch and ``store`` the missing ones."""
    last_poll = max((c.last_poll_at for c in cursors.values() if c.last_poll_at), default=None)
    since = datetime.combine(window_start, time.min, tzinfo=timezone.utc)
    findings: list[Finding] = []
    gaps: list[FolderGap] = []
    checked = 0
    for folder in mailbox.folders:
        try:
            known = seen(folder, GRAPH_UIDVALIDITY)
            missing_uids: list[int] = []
            for page in source.messages_since(folder, since):
                checked += len(page)
                missing = [item for item in page if message_uid(item.id) not in known]
                for start in range(0, len(missing), CHUNK):
                    fetched = source.fetch(missing[start : start + CHUNK])
                    store(folder, GRAPH_UIDVALIDITY, fetched)
                    missing_uids += [m.uid for m in fetched]
            if missing_uids:
                gaps.append(FolderGap(folder, GRAPH_UIDVALIDITY, tuple(sorted(missing_uids))))
        except KlachtwachtError as exc:
            findings.append(Finding("mailbox_unreachable", "critical", "Map %r van %s kan niet worden gelezen via Microsoft Graph: %s; %s." % (
                folder, mailbox.name, _reason(exc, mailbox.name), _ago(last_poll, now)), mailbox.name))
    return MailboxCheck(tuple(findings), tuple(gaps), (), checked)
