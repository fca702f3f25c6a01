"""The mailbox source over Microsoft Graph, behind the same seam as the IMAP one.

Each delta page is turned into :class:`ingest.imap.FetchedMessage` records
(the raw MIME bytes of ``/messages/{id}/$value``, the receipt time and a
"uid") and handed to the same :class:`ingest.poller.BatchSink`, together
with the cursor to resume from, in one transaction per batch.

How Graph's state maps onto a folder cursor and its sightings:

* ``uidvalidity`` is :data:`GRAPH_UIDVALIDITY` (0, which IMAP never uses);
* a message's "uid" is :func:`message_uid`, 63 bits of the SHA-256 of its
  Graph id. It is the same on every pass, so a page read again (after a
  crash, a 401, a 410 resync) finds its sightings and fetches nothing.
  Graph gives a message a new id when it moves to another folder (unless
  the immutable ids asked for in :func:`ingest.graph.delta.prefer` apply);
  in the other folder it is a new sighting of the same message, recognised
  by its content and Message-ID as everywhere;
* ``link`` holds the link to go on from: a ``nextLink`` while a sync is
  under way, the ``deltaLink`` once it ended;
* a 410 (the server forgot the state) starts a new ``epoch`` and a full
  resync from the first page; what was seen before is skipped by its
  sighting, what comes back under another id is deduplicated by content,
  as after a UIDVALIDITY change.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import quote, urlencode

from ingest.backoff import Backoff
from ingest.cursor import Cursor
from ingest.graph.client import GraphClient, SyncStateGone
from ingest.graph.delta import DeltaItem, first_link, graph_time, pages, parse_time
from ingest.imap import FetchedMessage
from ingest.poller import BatchSink, FolderResult, PollResult
from klachtwacht.errors import AuthenticationFailed, DatabaseUnavailable, FolderMissing, MailboxUnavailable

__all__ = [
    "GRAPH_UIDVALIDITY", "WELL_KNOWN", "GraphSink", "GraphMailbox", "message_uid", "poll_graph_folder", "poll_graph_mailbox",
]

log = logging.getLogger(__name__)

GRAPH_UIDVALIDITY = 0
#: Graph's well-known folder names (``/mailFolders/inbox``), matched case-insensitively.
WELL_KNOWN = (
    "archive", "clutter", "conflicts", "conversationhistory", "deleteditems", "drafts", "inbox", "junkemail", "localfailures",
    "msgfolderroot", "outbox", "recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems", "serverfailures", "syncissues",
)
PATH_SEPARATOR = "/"


def message_uid(graph_id: str) -> int:
    """A stable positive 63-bit number for a Graph message id (the sighting's uid)."""
    return int.from_bytes(hashlib.sha256(graph_id.encode("utf-8")).digest()[:8], "big") >> 1


class GraphSink(BatchSink, Protocol):
    """A :class:`BatchSink` that also tells which uids of a folder it has sighted already."""

    def known_uids(self, folder: str, uidvalidity: int, uids: Collection[int]) -> set[int]:
        """The subset of ``uids`` with a sighting in ``folder`` under ``uidvalidity``."""


class GraphMailbox:
    """One user's mailbox on Graph, read-only: folders resolved, pages read, messages fetched."""

    def __init__(self, client: GraphClient, user: str, *, label: str = "", since: datetime | None = None) -> None:
        self.client = client
        self.user = user
        self.label = label or user
        self.since = since
        self._resolved: dict[str, str] = {}

    @property
    def _base(self) -> str:
        return f"users/{quote(self.user, safe='@')}"

    def resolve(self, folder: str) -> str:
        """The id of the configured ``folder``: a well-known name (``inbox``, ``INBOX``) or a path of display names (``Klachten/2026``)."""
        if folder in self._resolved:
            return self._resolved[folder]
        if folder.lower() in WELL_KNOWN:
            folder_id = folder.lower()
        else:
            parts = [p for p in folder.split(PATH_SEPARATOR) if p]
            if not parts:
                raise FolderMissing(f"{self.label}: empty folder name")
            folder_id = ""
            for depth, name in enumerate(parts):
                if depth == 0 and name.lower() in WELL_KNOWN:
                    folder_id = name.lower()
                    continue
                listing = f"{self._base}/mailFolders/{quote(folder_id)}/childFolders" if folder_id else f"{self._base}/mailFolders"
                folder_id = self._child(listing, name, folder)
        self._resolved[folder] = folder_id
        return folder_id

    def _child(self, listing: str, name: str, path: str) -> str:
        link: str | None = f"{listing}?{urlencode({'$select': 'id,displayName', '$top': '100'}, safe='$,')}"
        while link:
            body = self.client.get_json(link)
            for entry in body.get("value", []):
                if isinstance(entry, dict) and str(entry.get("displayName", "")).casefold() == name.casefold():
                    return str(entry["id"])
            next_link = body.get("@odata.nextLink")
            link = next_link if isinstance(next_link, str) else None
        raise FolderMissing(f"{self.label}: folder {path!r} does not exist (no {name!r})")

    def first_link(self, folder: str) -> str:
        return first_link(self.user, self.resolve(folder), self.since)

    def fetch(self, items: Sequence[DeltaItem]) -> list[FetchedMessage]:
        """The raw bytes of each message, fetched with up to the client's concurrency at once, in the order given.

        A message that is gone by now (moved or deleted since the page was
        read) is left out: the folder it went to reports it under its new id.
        """
        if not items:
            return []

        def one(item: DeltaItem) -> FetchedMessage | None:
            try:
                raw = self.client.get_bytes(f"{self._base}/messages/{quote(item.id)}/$value")
            except FolderMissing:
                log.info("graph %s: a message left before it was fetched", self.label)
                return None
            return FetchedMessage(uid=message_uid(item.id), internaldate=item.received or datetime.now(timezone.utc), raw=raw)

        workers = min(self.client.concurrency, len(items))
        if workers <= 1:
            found = [one(item) for item in items]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix=f"graph-{self.label}") as pool:
                found = list(pool.map(one, items))
        return [m for m in found if m is not None]

    def messages_since(self, folder: str, since: datetime, page_size: int = 500) -> Iterator[list[DeltaItem]]:
        """The messages in ``folder`` received since ``since`` (id and receipt time), a page at a time (for the reconciliation)."""
        params = {"$select": "id,receivedDateTime", "$filter": f"receivedDateTime ge {graph_time(since)}", "$top": str(page_size)}
        link: str | None = f"{self._base}/mailFolders/{quote(self.resolve(folder))}/messages?{urlencode(params, quote_via=quote, safe='$,=')}"
        while link:
            body = self.client.get_json(link, prefer='IdType="ImmutableId"')
            yield [
                DeltaItem(entry["id"], None, parse_time(entry.get("receivedDateTime")))
                for entry in body.get("value", [])
                if isinstance(entry, dict) and isinstance(entry.get("id"), str)
            ]
            next_link = body.get("@odata.nextLink")
            link = next_link if isinstance(next_link, str) else None


def poll_graph_folder(source: GraphMailbox, folder: str, sink: GraphSink, out: FolderResult, batch_size: int) -> None:
    """Read ``folder`` from its cursor to the end of the delta into ``sink``; count in ``out``.

    Each page is stored in batches of at most ``batch_size`` messages; the
    cursor of a page's last batch points at the next page (or holds the
    deltaLink), the others at the page itself, so nothing is lost or read
    twice by a crash anywhere. A 410 starts a new epoch and a full resync.
    """
    stored = sink.load_cursor(folder)
    if stored is not None and stored.uidvalidity != GRAPH_UIDVALIDITY:
        stored = Cursor(GRAPH_UIDVALIDITY, 0, stored.epoch + 1)  # the folder was read over IMAP before: a first Graph sync
    cursor = stored or Cursor(GRAPH_UIDVALIDITY, 0, 1)
    for resync in (False, True):
        link = cursor.link or source.first_link(folder)
        try:
            _read(source, folder, sink, out, batch_size, cursor, link)
            return
        except SyncStateGone as exc:
            if resync:
                raise MailboxUnavailable(f"{source.label}: folder {folder!r}: {exc} even on a full resync") from exc
            cursor = Cursor(GRAPH_UIDVALIDITY, 0, cursor.epoch + 1)
            log.warning("graph %s: folder %r: %s; epoch %d reads the folder again", source.label, folder, exc, cursor.epoch)
            out.rescanned = True
            sink.store_batch(folder, cursor, [])


def _read(source: GraphMailbox, folder: str, sink: GraphSink, out: FolderResult, batch_size: int, cursor: Cursor, link: str) -> None:
    seen = cursor.last_uid
    for page in pages(source.client, link, batch_size):
        present = [item for item in page.items if not item.removed]
        known = sink.known_uids(folder, GRAPH_UIDVALIDITY, [message_uid(i.id) for i in present]) if present else set()
        wanted = [i for i in present if message_uid(i.id) not in known]
        chunks = [wanted[start : start + batch_size] for start in range(0, len(wanted), batch_size)] or [[]]
        for number, chunk in enumerate(chunks):
            messages = source.fetch(chunk)
            seen += len(messages)
            last = number == len(chunks) - 1
            out.new += sink.store_batch(folder, Cursor(GRAPH_UIDVALIDITY, seen, cursor.epoch, page.link if last else link), messages)
            out.fetched += len(messages)
        link = page.link


def poll_graph_mailbox(
    name: str,
    source: GraphMailbox,
    folders: Sequence[str],
    sink: GraphSink,
    *,
    batch_size: int = 100,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], object] = time.sleep,
) -> PollResult:
    """Read every folder of the mailbox into ``sink``, as :func:`ingest.poller.poll_mailbox` does over IMAP.

    Graph being away or throttling beyond the client's own waits, or the
    database being away, is waited out with ``backoff`` and the folder read
    again from its stored cursor; after ``backoff.attempts`` failures in a
    row the error is raised. A missing folder is reported and the others
    are read. Refused credentials raise at once.
    """
    result = PollResult(mailbox=name)
    folder_results = {f: FolderResult(f) for f in folders}
    failures = 0
    pending = list(folders)
    while pending:
        folder = pending[0]
        try:
            poll_graph_folder(source, folder, sink, folder_results[folder], batch_size)
            pending.pop(0)
            failures = 0
        except FolderMissing as exc:
            log.warning("mailbox %s: folder %r is missing: %s", name, folder, exc)
            folder_results[folder].error = str(exc)
            sink.folder_error(folder, str(exc))
            pending.pop(0)
        except AuthenticationFailed:
            raise
        except (DatabaseUnavailable, MailboxUnavailable) as exc:
            failures += 1
            if failures >= backoff.attempts:
                raise
            delay = backoff.delay(failures - 1, exc.retry_after)
            log.warning("mailbox %s: %s; trying folder %r again in %.1f s (try %d of %d)", name, exc, folder, delay, failures + 1, backoff.attempts)
            result.reconnects += 1
            sleep(delay)
    result.folders = [folder_results[f] for f in folders]
    return result
