"""Watching mailboxes: one connection per folder, IDLE where the server offers it, a poll as the safety net.

Each configured folder has a watcher of its own with one logged-in
connection that it keeps: it polls the folder on it, checks just before
IDLE whether mail came in after the poll's UID SEARCH (EXAMINE's UIDNEXT
against the stored cursor), waits in IDLE, and fetches on the same
connection when IDLE reports new mail. So a burst of mail costs no new
logins (Exchange throttles those) and nothing waits for the next poll.

IDLE is a hint, never the only path: every ``poll_interval`` a full poll of
the folder runs regardless, IDLE is re-issued at least every
:data:`IDLE_RENEW` seconds (RFC 2177 allows 29 minutes), and an IMAP error
closes the connection and opens a new one after a backoff. A database that
is away is waited for on the open connection.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from ingest.imap import ImapConnection
from ingest.poller import has_new_mail
from klachtwacht.config import MailboxConfig
from klachtwacht.errors import AuthenticationFailed, DatabaseUnavailable, FolderMissing, KlachtwachtError
from klachtwacht.transient import database_errors

if TYPE_CHECKING:
    from klachtwacht.runtime import App
    from klachtwacht.transient import GuardedSink

__all__ = ["watch_mailbox", "watch_folder", "FolderWatcher", "IDLE_RENEW"]

log = logging.getLogger(__name__)

IDLE_RENEW = 600.0
#: Longest wait between tries while the database is away (the IMAP backoff may be minutes).
DB_RETRY_CAP = 30.0
#: Longest single wait inside IDLE, so that a stop request is noticed soon.
IDLE_SLICE = 1.0


def watch_mailbox(app: App, mailbox: MailboxConfig, stop: threading.Event) -> None:
    """Watch every folder of ``mailbox``, each in a thread of its own, until ``stop``."""
    threads = [
        threading.Thread(target=watch_folder, args=(app, mailbox, folder, stop), name=f"watch-{mailbox.name}:{folder}", daemon=True)
        for folder in mailbox.folders
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def watch_folder(app: App, mailbox: MailboxConfig, folder: str, stop: threading.Event) -> None:
    """Watch one folder of ``mailbox`` until ``stop`` (see the module's description; a Graph mailbox: :mod:`klachtwacht.graphbox`)."""
    if mailbox.graph is not None:
        from klachtwacht.graphbox import watch_graph_folder

        watch_graph_folder(app, mailbox, folder, stop)
        return
    FolderWatcher(app, mailbox, folder, stop).run()


class FolderWatcher:
    """The watcher of one folder: one connection, kept while it works."""

    def __init__(self, app: App, mailbox: MailboxConfig, folder: str, stop: threading.Event) -> None:
        self.app = app
        self.mailbox = mailbox
        self.folder = folder
        self.stop = stop
        self.failures = 0
        self.logins = 0
        self.where = f"mailbox {mailbox.name} folder {folder!r}"
        self.sink: GuardedSink = app.sink(mailbox)
        self._renew = app._lease_renewer(f"poll:{mailbox.name}")

    def run(self) -> None:
        while not self.stop.is_set():
            conn = self.app.connection(self.mailbox)
            try:
                conn.connect()
                self.logins += 1
                self._watch(conn)
            except KlachtwachtError as exc:  # the IMAP side failed: a new connection after a backoff
                self.failures += 1
                delay = self.app.backoff.delay(self.failures - 1, getattr(exc, "retry_after", None))
                level = logging.ERROR if isinstance(exc, AuthenticationFailed) else logging.WARNING
                log.log(level, "%s: %s; connecting again in %.1f s", self.where, exc, delay)
                self.stop.wait(delay)
            finally:
                conn.close()
        self.app.release_lease(f"poll:{self.mailbox.name}")

    def _watch(self, conn: ImapConnection) -> None:
        """Poll, wait for news, poll again, on ``conn``, until ``stop``; IMAP errors propagate."""
        idle = self.mailbox.idle and conn.has_idle()
        while not self.stop.is_set():
            interval, polled = self._poll(conn)
            deadline = time.monotonic() + interval
            while not self.stop.is_set() and time.monotonic() < deadline:
                if not idle or not polled:  # no poll this time (lease elsewhere, folder missing, database away): wait
                    self.stop.wait(max(0.0, deadline - time.monotonic()))
                    break
                if self._waiting_mail(conn):
                    log.debug("%s: mail arrived after the last search", self.where)
                    break
                if self._idle(conn, min(deadline, time.monotonic() + IDLE_RENEW)):
                    log.debug("%s: IDLE reported new mail", self.where)
                    break

    def _poll(self, conn: ImapConnection) -> tuple[float, bool]:
        """One poll on ``conn``: the seconds until the next one (sooner after a passing failure), and whether it polled."""
        try:
            result = self.app.poll_folder(self.mailbox, self.folder, conn, self.sink)
        except DatabaseUnavailable as exc:
            self.failures += 1
            delay = min(DB_RETRY_CAP, self.app.backoff.delay(self.failures - 1))
            log.warning("%s; polling again in %.1f s", exc, delay)  # the error names mailbox and folder
            return delay, False
        except FolderMissing as exc:
            log.warning("%s: %s; looking again in %.0f s", self.where, exc, self.mailbox.poll_interval)
            try:
                self.sink.folder_error(self.folder, str(exc))
            except DatabaseUnavailable:
                pass
            return self.mailbox.poll_interval, False
        self.failures = 0
        if result is None:
            log.info("%s: another poller holds the lease", self.where)
            return min(self.mailbox.poll_interval, self.app.config.ingest.lease_seconds), False
        if result.fetched:
            log.info("%s: %d fetched, %d new sightings", self.where, result.fetched, result.new)
        return self.mailbox.poll_interval, True

    def _waiting_mail(self, conn: ImapConnection) -> bool:
        """Mail the cursor has not reached (it arrived after the poll's UID SEARCH); IMAP errors propagate."""
        try:
            with database_errors(self.where):
                cursor = self.sink.load_cursor(self.folder)
        except DatabaseUnavailable:
            return False  # the poll after IDLE will wait for the database
        return has_new_mail(conn, self.folder, cursor)

    def _idle(self, conn: ImapConnection, until: float) -> bool:
        """IDLE until new mail, ``until`` or ``stop``; True on new mail."""
        conn.idle_start()
        news = False
        try:
            while not self.stop.is_set() and not news and time.monotonic() < until:
                news = conn.idle_check(min(IDLE_SLICE, max(0.0, until - time.monotonic())))
                self._renew()
        finally:
            news = conn.idle_done() or news
        return news
