"""Mailbox completeness: what the server holds against what klachtwacht has seen.

Per mailbox and folder, read-only: EXAMINE, then ``UID SEARCH SINCE`` the start
of the window. A UID under the current UIDVALIDITY without a sighting was
never ingested; it is fetched now (the caller stores it) and reported. A
UIDVALIDITY other than the cursor's means the server renumbered the folder; a
mailbox that cannot be reached, or whose credentials fail, is reported with
how long ago its last good poll was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from ingest.imap import FetchedMessage, ImapConnection
from klachtwacht.config import MailboxConfig
from klachtwacht.errors import KlachtwachtError
from klachtwacht.reconcile.facts import CursorFact
from klachtwacht.reconcile.findings import Finding

log = logging.getLogger(__name__)

__all__ = ["FolderGap", "MailboxCheck", "check_mailbox"]


#: UIDs fetched per round trip when a gap is filled.
CHUNK = 50


@dataclass(frozen=True, slots=True)
class FolderGap:
    """Messages on the server in one folder that no sighting accounts for (now fetched and stored)."""

    folder: str
    uidvalidity: int
    uids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MailboxCheck:
    findings: tuple[Finding, ...]
    gaps: tuple[FolderGap, ...] = ()
    renumbered: tuple[str, ...] = ()  # folders whose UIDVALIDITY changed
    checked: int = 0  # UIDs compared


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "er is nog nooit met succes opgehaald"
    hours = (now - then).total_seconds() / 3600
    when = then.strftime("%d-%m-%Y %H:%M")
    if hours < 48:
        return "laatste geslaagde ophaalronde %s UTC (%.0f uur geleden)" % (when, hours)
    return "laatste geslaagde ophaalronde %s UTC (%.0f dagen geleden)" % (when, hours / 24)


def _reason(exc: BaseException, mailbox: str) -> str:
    text = str(exc)
    return text[len(mailbox) + 2 :] if text.startswith(mailbox + ": ") else text


def _uids_in_window(connection: ImapConnection, folder: str, window_start: date) -> list[int]:
    """``UID SEARCH SINCE``; a server that cannot answer it (some small servers drop the connection) has every UID compared."""
    try:
        return connection.uids_since(window_start)
    except KlachtwachtError as exc:
        log.info("folder search by date failed (%s); comparing every UID of the folder instead", exc)
        connection.close()
        connection.connect()
        connection.examine(folder)
        return connection.uids_from(1)


def check_mailbox(
    mailbox: MailboxConfig,
    connection: ImapConnection,
    seen: Callable[[str, int], set[int]],
    cursors: dict[str, CursorFact],
    window_start: date,
    now: datetime,
    store: Callable[[str, int, list[FetchedMessage]], None],
) -> MailboxCheck:
    """Compare the server's UIDs since ``window_start`` with the sightings (``seen(folder, uidvalidity)``).

    Missing messages are fetched (BODY.PEEK, read-only) in chunks and handed to
    ``store`` as they come, so a large gap is never held in memory at once.
    """
    last_poll = max((c.last_poll_at for c in cursors.values() if c.last_poll_at), default=None)
    findings: list[Finding] = []
    gaps: list[FolderGap] = []
    renumbered: list[str] = []
    checked = 0
    try:
        with connection:
            for folder in mailbox.folders:
                try:
                    status = connection.examine(folder)
                except KlachtwachtError as exc:
                    findings.append(Finding("mailbox_unreachable", "critical", "Map %r van %s kan niet worden geopend: %s; %s." % (
                        folder, mailbox.name, _reason(exc, mailbox.name), _ago(last_poll, now)), mailbox.name))
                    continue
                cursor = cursors.get(folder)
                if cursor is not None and cursor.uidvalidity != status.uidvalidity:
                    renumbered.append(folder)
                    continue  # the poller rescans a renumbered folder; the caller runs it and reports
                server = _uids_in_window(connection, folder, window_start)
                checked += len(server)
                missing = sorted(set(server) - seen(folder, status.uidvalidity))
                for start in range(0, len(missing), CHUNK):
                    store(folder, status.uidvalidity, connection.fetch(missing[start : start + CHUNK]))
                if missing:
                    gaps.append(FolderGap(folder, status.uidvalidity, tuple(missing)))
    except KlachtwachtError as exc:
        findings.append(Finding("mailbox_unreachable", "critical", "Mailbox %s is niet bereikbaar: %s; %s." % (
            mailbox.name, _reason(exc, mailbox.name), _ago(last_poll, now)), mailbox.name))
    return MailboxCheck(tuple(findings), tuple(gaps), tuple(renumbered), checked)
