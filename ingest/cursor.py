"""Pure cursor logic: what to fetch from a folder, given where we were.

A folder cursor is (UIDVALIDITY, last UID). When the server reports another
UIDVALIDITY, every stored UID of that folder is meaningless: a new epoch
starts and the folder is rescanned from the first message. Deduplication by
content (not by UID) keeps the rescan from storing anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Cursor", "FetchPlan", "plan_fetch", "new_uids", "batches"]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the poller stands in one folder."""

    uidvalidity: int
    last_uid: int
    epoch: int = 1
    #: Graph folders only: the ``@odata.nextLink`` to resume a sync from, or the ``@odata.deltaLink`` of the last one.
    link: str | None = None


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """What one poll of a folder does."""

    first_uid: int  # fetch UIDs from here on (``first_uid:*``)
    cursor: Cursor  # the cursor to continue from
    rescan: bool  # True when UIDVALIDITY changed and the folder is read again


def plan_fetch(stored: Cursor | None, server_uidvalidity: int) -> FetchPlan:
    """Decide where to start, starting a new epoch on a UIDVALIDITY change."""
    if stored is None:
        return FetchPlan(first_uid=1, cursor=Cursor(server_uidvalidity, 0, 1), rescan=False)
    if stored.uidvalidity != server_uidvalidity:
        return FetchPlan(first_uid=1, cursor=Cursor(server_uidvalidity, 0, stored.epoch + 1), rescan=True)
    return FetchPlan(first_uid=stored.last_uid + 1, cursor=stored, rescan=False)


def new_uids(found: Iterable[int], last_uid: int) -> list[int]:
    """The UIDs above ``last_uid``, sorted.

    ``UID SEARCH n:*`` always answers with the highest UID, even when it is
    below n (RFC 3501 6.4.8), so the answer is filtered here.
    """
    return sorted({uid for uid in found if uid > last_uid})


def batches(uids: Sequence[int], sizes: dict[int, int], max_count: int, max_bytes: int) -> Iterator[list[int]]:
    """Split ``uids`` into batches of at most ``max_count`` messages and about ``max_bytes``.

    A single message larger than ``max_bytes`` forms a batch of its own.
    """
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch

