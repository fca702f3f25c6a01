"""Delta queries on one mail folder, one page at a time.

``GET /users/{user}/mailFolders/{folder}/messages/delta`` with only the
fields needed to decide what to fetch (:data:`SELECT`). A sync follows
``@odata.nextLink`` page by page and ends with an ``@odata.deltaLink``;
the next sync starts from that link and sees only what changed. Nothing
here holds more than one page: the caller stores each page with the link
that comes after it, so a sync interrupted anywhere resumes at its page.

Messages that left the folder (moved, deleted) arrive as ``@removed``;
a message whose flags changed arrives again with its same id, which the
caller recognises by its sighting.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from ingest.graph.client import GraphClient
from klachtwacht.errors import MailboxUnavailable

__all__ = ["SELECT", "DeltaItem", "DeltaPage", "first_link", "read_page", "pages", "prefer", "parse_time", "graph_time"]

SELECT = "id,internetMessageId,receivedDateTime,parentFolderId"


@dataclass(frozen=True, slots=True)
class DeltaItem:
    """One entry of a delta page: a message in the folder, or one that left it."""

    id: str
    internet_message_id: str | None
    received: datetime | None
    removed: bool = False


@dataclass(frozen=True, slots=True)
class DeltaPage:
    items: tuple[DeltaItem, ...]
    next_link: str | None  # more pages of this sync
    delta_link: str | None  # the sync is complete: start the next one here

    @property
    def link(self) -> str:
        """Where to go on from after this page (the next page, or the next sync)."""
        link = self.next_link or self.delta_link
        assert link is not None  # read_page refuses a page with neither
        return link


def prefer(page_size: int) -> str:
    """The ``Prefer`` header of a delta request: the page size, and ids that survive a move within the mailbox."""
    return f'odata.maxpagesize={page_size}, IdType="ImmutableId"'


def graph_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """Graph's ``2026-12-02T14:20:04Z`` as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def first_link(user: str, folder_id: str, since: datetime | None = None) -> str:
    """The path of a first (full) sync of ``folder_id``; ``since`` limits it to mail received from then on."""
    params = {"$select": SELECT}
    if since is not None:
        params["$filter"] = f"receivedDateTime ge {graph_time(since)}"
    return f"users/{quote(user, safe='@')}/mailFolders/{quote(folder_id)}/messages/delta?{urlencode(params, quote_via=quote, safe='$,=')}"


def _item(raw: Any) -> DeltaItem:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise MailboxUnavailable("Graph sent a delta entry without an id")
    mid = raw.get("internetMessageId")
    return DeltaItem(
        id=raw["id"],
        internet_message_id=mid if isinstance(mid, str) else None,
        received=parse_time(raw.get("receivedDateTime")),
        removed="@removed" in raw,
    )


def read_page(client: GraphClient, link: str, page_size: int) -> DeltaPage:
    """One page at ``link``; :class:`~ingest.graph.client.SyncStateGone` when the server forgot the state."""
    body = client.get_json(link, prefer=prefer(page_size))
    values = body.get("value", [])
    if not isinstance(values, list):
        raise MailboxUnavailable(f"{client.label}: Graph sent a delta page without a value list")
    next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
    if not isinstance(next_link, str) and not isinstance(delta_link, str):
        raise MailboxUnavailable(f"{client.label}: Graph sent a delta page with neither nextLink nor deltaLink")
    return DeltaPage(
        items=tuple(_item(v) for v in values),
        next_link=next_link if isinstance(next_link, str) else None,
        delta_link=delta_link if isinstance(delta_link, str) else None,
    )


def pages(client: GraphClient, link: str, page_size: int) -> Iterator[DeltaPage]:
    """Every page from ``link`` to the end of the sync (the page with the deltaLink), one at a time."""
    while True:
        page = read_page(client, link, page_size)
        yield page
        if page.next_link is None:
            return
        link = page.next_link
