"""One poll of one mailbox: every folder read from its cursor, in batches.

Storage is handed in (:class:`BatchSink`), so this module knows nothing of
the database. Each batch is stored together with the advanced cursor, so a
crash or a dropped connection resumes from the last stored batch; a message
fetched twice is recognised by the sink and stored once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ingest.backoff import Backoff
from ingest.cursor import Cursor, batches, new_uids, plan_fetch
from ingest.imap import FetchedMessage, ImapConnection
from klachtwacht.errors import AuthenticationFailed, DatabaseUnavailable, FolderMissing, MailboxUnavailable

__all__ = ["BatchSink", "PollResult", "FolderResult", "poll_mailbox", "poll_folder", "has_new_mail"]

log = logging.getLogger(__name__)


class BatchSink(Protocol):
    """Where fetched mail goes; implemented over the database by the application."""

    def load_cursor(self, folder: str) -> Cursor | None:
        """The stored cursor of ``folder``, or None for a folder never polled."""

    def store_batch(self, folder: str, cursor: Cursor, messages: Sequence[FetchedMessage]) -> int:
        """Store ``messages`` and ``cursor`` in one transaction; return how many were new sightings."""

    def folder_error(self, folder: str, error: str) -> None:
        """Remember that ``folder`` could not be read this time."""


@dataclass
class FolderResult:
    folder: str
    fetched: int = 0
    new: int = 0
    rescanned: bool = False
    error: str | None = None


@dataclass
class PollResult:
    mailbox: str
    folders: list[FolderResult] = field(default_factory=list)
    reconnects: int = 0
    seen_again: int = 0  # sightings of messages the mailbox had already (set by the caller's sink)

    @property
    def fetched(self) -> int:
        return sum(f.fetched for f in self.folders)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.folders)

    @property
    def errors(self) -> list[str]:
        return [f"{f.folder}: {f.error}" for f in self.folders if f.error]


def poll_mailbox(
    name: str,
    connection: ImapConnection,
    folders: Sequence[str],
    sink: BatchSink,
    *,
    batch_size: int = 100,
    batch_bytes: int = 16 * 1024 * 1024,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], object] = time.sleep,
) -> PollResult:
    """Fetch every new message of every folder into ``sink`` over ``connection``.

    ``connection`` is not yet connected; it is (re)connected here as needed.

    A dropped connection, ``BYE`` or a throttling answer leads to a reconnect
    after a backoff, resuming at the stored cursor; after ``backoff.attempts``
    failures in a row :class:`MailboxUnavailable` is raised. A sink that
    reports :class:`DatabaseUnavailable` is waited for the same way, on the
    same connection. A missing folder
    is reported in the result and the other folders are still read.
    """
    result = PollResult(mailbox=name)
    conn = connection
    connected = False
    failures = 0
    token_refreshed = False
    pending = list(folders)
    folder_results = {f: FolderResult(f) for f in folders}
    try:
        while pending:
            folder = pending[0]
            try:
                if not connected:
                    conn.connect()
                    connected = True
                poll_folder(conn, folder, sink, folder_results[folder], batch_size, batch_bytes)
                pending.pop(0)
                failures = 0
            except FolderMissing as exc:
                log.warning("mailbox %s: folder %r is missing: %s", name, folder, exc)
                folder_results[folder].error = str(exc)
                sink.folder_error(folder, str(exc))
                pending.pop(0)
            except AuthenticationFailed:
                if conn.config.auth == "xoauth2" and not token_refreshed:
                    token_refreshed = True  # a cached token may be stale: one retry with a fresh one
                    conn.expect_token_refresh()
                    conn.close()
                    connected = False
                    continue
                raise
            except DatabaseUnavailable as exc:
                # the sink could not store: the IMAP session is fine, the folder is read again from its stored cursor
                failures += 1
                if failures >= backoff.attempts:
                    raise
                delay = backoff.delay(failures - 1)
                log.warning("mailbox %s: %s; trying folder %r again in %.1f s (try %d of %d)", name, exc, folder, delay, failures + 1, backoff.attempts)
                sleep(delay)
            except MailboxUnavailable as exc:
                failures += 1
                if "access token expired" in str(exc):
                    conn.expect_token_refresh()
                conn.close()
                connected = False
                if failures >= backoff.attempts:
                    raise
                delay = backoff.delay(failures - 1, exc.retry_after)
                log.warning("mailbox %s: %s; reconnecting in %.1f s (try %d of %d)", name, exc, delay, failures + 1, backoff.attempts)
                result.reconnects += 1
                sleep(delay)
    finally:
        conn.close()
    result.folders = [folder_results[f] for f in folders]
    return result


def has_new_mail(conn: ImapConnection, folder: str, cursor: Cursor | None) -> bool:
    """True when ``folder`` holds mail the cursor has not reached, asked on the open connection.

    Run just before IDLE: a message that arrived after the last poll's UID
    SEARCH is already counted in this session's EXISTS, so IDLE would never
    report it. EXAMINE's UIDNEXT answers most checks; a gap in the UIDs (or a
    server without UIDNEXT, as Courier) costs one UID SEARCH.
    """
    status = conn.examine(folder)
    if cursor is None or status.uidvalidity != cursor.uidvalidity:
        return status.exists > 0 or cursor is not None
    if status.exists == 0:
        return False
    if status.uidnext is not None and status.uidnext <= cursor.last_uid + 1:
        return False
    return bool(new_uids(conn.uids_from(cursor.last_uid + 1), cursor.last_uid))


def poll_folder(conn: ImapConnection, folder: str, sink: BatchSink, out: FolderResult, batch_size: int, batch_bytes: int) -> None:
    """Fetch every new message of ``folder`` into ``sink`` over the connected ``conn``; count them in ``out``."""
    status = conn.examine(folder)
    plan = plan_fetch(sink.load_cursor(folder), status.uidvalidity)
    if plan.rescan:
        log.warning("folder %r: UIDVALIDITY changed to %d; epoch %d rescans it", folder, status.uidvalidity, plan.cursor.epoch)
        out.rescanned = True
    cursor = plan.cursor
    if status.exists == 0:
        sink.store_batch(folder, cursor, [])
        return
    if status.uidnext is not None and plan.first_uid >= status.uidnext and not plan.rescan:
        sink.store_batch(folder, cursor, [])
        return
    uids = new_uids(conn.uids_from(plan.first_uid), cursor.last_uid)
    if not uids:
        sink.store_batch(folder, cursor, [])
        return
    sizes = conn.sizes(uids)
    for batch in batches(uids, sizes, batch_size, batch_bytes):
        messages = conn.fetch(batch)
        cursor = Cursor(cursor.uidvalidity, max(batch), cursor.epoch)
        out.new += sink.store_batch(folder, cursor, messages)
        out.fetched += len(messages)
