"""Watching mailboxes: IDLE where the server offers it, a poll as the safety net.

IDLE is a hint, never the only path: every ``poll_interval`` a full poll runs
regardless, IDLE is re-issued at least every :data:`IDLE_RENEW` seconds
(IMAPClient's advice; RFC 2177 allows 29 minutes), and any error ends the
IDLE connection, waits a backoff and starts again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from klachtwacht.config import MailboxConfig
from klachtwacht.errors import KlachtwachtError

if TYPE_CHECKING:
    from klachtwacht.runtime import App

__all__ = ["watch_mailbox", "IDLE_RENEW"]

log = logging.getLogger(__name__)

IDLE_RENEW = 600.0


def watch_mailbox(app: App, mailbox: MailboxConfig, stop: threading.Event) -> None:
    """Poll ``mailbox`` now, then whenever IDLE reports news or the interval passes, until ``stop``."""
    failures = 0
    while not stop.is_set():
        try:
            app.poll(mailbox, sleep=stop.wait)
            failures = 0
        except KlachtwachtError as exc:
            failures += 1
            delay = app.backoff.delay(failures - 1, getattr(exc, "retry_after", None))
            log.error("mailbox %s: poll failed: %s; next try in %.0f s", mailbox.name, exc, delay)
            stop.wait(delay)
            continue
        _wait_for_news(app, mailbox, stop)


def _wait_for_news(app: App, mailbox: MailboxConfig, stop: threading.Event) -> None:
    """Return when the first folder has news, the poll interval passed, or ``stop`` is set."""
    deadline = time.monotonic() + mailbox.poll_interval
    if not mailbox.idle:
        stop.wait(mailbox.poll_interval)
        return
    conn = app.connection(mailbox)
    try:
        conn.connect()
        if not conn.has_idle():
            stop.wait(max(0.0, deadline - time.monotonic()))
            return
        conn.examine(mailbox.folders[0])
        while not stop.is_set() and time.monotonic() < deadline:
            renew_at = min(deadline, time.monotonic() + IDLE_RENEW)
            conn.idle_start()
            news = False
            # short checks, so that a stop request is noticed within a second
            while not stop.is_set() and not news and time.monotonic() < renew_at:
                news = conn.idle_check(min(1.0, max(0.0, renew_at - time.monotonic())))
            conn.idle_done()
            if news:
                log.debug("mailbox %s: IDLE reported news", mailbox.name)
                return
    except KlachtwachtError as exc:
        log.warning("mailbox %s: IDLE connection failed (%s); falling back to polling", mailbox.name, exc)
        stop.wait(min(5.0, max(0.0, deadline - time.monotonic())))
    finally:
        conn.close()
