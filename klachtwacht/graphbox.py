"""Graph mailboxes in the running application: the source built from the configuration, and a folder's watcher.

A mailbox with ``[mailboxes.graph]`` is read by :mod:`ingest.graph` instead
of IMAP, into the same sink. There is no IDLE: each folder's watcher reads
its delta every ``poll_interval`` (default one minute), under the mailbox's
lease as the IMAP watcher does; Graph or the database being away is waited
out with the backoff, a missing folder is looked for again a poll later.
Change notifications would need an endpoint Microsoft can reach; they are
not used, so polling is the only path.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from ingest.graph import GRAPH_SCOPE, GraphClient, GraphMailbox, poll_graph_folder
from ingest.poller import FolderResult
from ingest.tokens import MsalTokenProvider
from klachtwacht import lease
from klachtwacht.config import GraphConfig, MailboxConfig
from klachtwacht.errors import AuthenticationFailed, ConfigError, DatabaseUnavailable, FolderMissing, KlachtwachtError
from klachtwacht.transient import database_errors

if TYPE_CHECKING:
    from klachtwacht.runtime import App

__all__ = ["graph_mailbox", "watch_graph_folder", "poll_graph_folder_leased"]

log = logging.getLogger(__name__)

#: Longest wait between tries while the database is away.
DB_RETRY_CAP = 30.0


def graph_mailbox(mailbox: MailboxConfig, since: datetime | None = None) -> GraphMailbox:
    """The Graph source of ``mailbox`` (which has ``graph`` set): MSAL tokens, a GET-only client.

    ``since`` (the start date) limits a folder's first sync to mail received from then on.
    """
    graph = mailbox.graph
    assert graph is not None
    verify: str | bool = graph.ca_file or True
    tokens = MsalTokenProvider(graph.tenant_id, graph.client_id, _credential(graph), scope=GRAPH_SCOPE, authority=graph.authority, verify=verify)
    client = GraphClient(graph.endpoint, tokens, label=mailbox.name, concurrency=graph.concurrency, timeout=graph.timeout, verify=verify)
    return GraphMailbox(client, graph.user, label=mailbox.name, since=since)


def _credential(graph: GraphConfig) -> str | dict[str, str]:
    """MSAL's client credential: the secret, or the certificate's private key and certificate (MSAL takes its SHA-256 thumbprint)."""
    if graph.certificate is None:
        assert graph.client_secret is not None  # checked by the config loader
        return graph.client_secret.reveal()
    pem = graph.certificate.reveal()
    certificates = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.DOTALL)
    key = re.search(r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----.+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----", pem, re.DOTALL)
    if not certificates or key is None:
        raise ConfigError("", "mailboxes.graph.certificate_file", "must hold the private key and the certificate, both in PEM")
    return {"private_key": key.group(0), "public_certificate": certificates[0]}


def poll_graph_folder_leased(app: App, mailbox: MailboxConfig, folder: str) -> FolderResult | None:
    """Read one folder's delta under the mailbox's lease (kept: the watcher holds it); None when another process holds it."""
    with database_errors(f"mailbox {mailbox.name}: folder {folder!r}: lease"):
        taken = lease.acquire(app.sessions, f"poll:{mailbox.name}", app.holder, app.config.ingest.lease_seconds)
    if not taken:
        return None
    out = FolderResult(folder)
    poll_graph_folder(app.graph_source(mailbox), folder, app.sink(mailbox), out, app.config.ingest.batch_size)
    return out


def watch_graph_folder(app: App, mailbox: MailboxConfig, folder: str, stop: threading.Event) -> None:
    """Poll one Graph folder every ``poll_interval`` until ``stop``."""
    where = f"mailbox {mailbox.name} folder {folder!r}"
    failures = 0
    while not stop.is_set():
        wait = mailbox.poll_interval
        try:
            result = poll_graph_folder_leased(app, mailbox, folder)
            failures = 0
            if result is None:
                log.info("%s: another poller holds the lease", where)
                wait = min(wait, app.config.ingest.lease_seconds)
            elif result.fetched:
                log.info("%s: %d fetched, %d new sightings", where, result.fetched, result.new)
        except FolderMissing as exc:
            log.warning("%s: %s; looking again in %.0f s", where, exc, wait)
            try:
                app.sink(mailbox).folder_error(folder, str(exc))
            except DatabaseUnavailable:
                pass
        except KlachtwachtError as exc:
            failures += 1
            wait = app.backoff.delay(failures - 1, getattr(exc, "retry_after", None))
            if isinstance(exc, DatabaseUnavailable):
                wait = min(DB_RETRY_CAP, wait)
            level = logging.ERROR if isinstance(exc, AuthenticationFailed) else logging.WARNING
            log.log(level, "%s: %s; trying again in %.1f s", where, exc, wait)
        stop.wait(wait)
    app.release_lease(f"poll:{mailbox.name}")
