"""What to fetch from a folder, given where the poller stood (ingest/cursor.py)."""

from __future__ import annotations

import pytest

from ingest.cursor import Cursor, FetchPlan, batches, new_uids, plan_fetch

# --- plan_fetch ------------------------------------------------------------


def test_a_folder_never_seen_is_read_from_the_first_uid_in_epoch_one() -> None:
    assert plan_fetch(None, 1700000000) == FetchPlan(first_uid=1, cursor=Cursor(1700000000, 0, 1), rescan=False)


def test_an_unchanged_uidvalidity_continues_after_the_last_uid() -> None:
    stored = Cursor(uidvalidity=42, last_uid=130, epoch=3)
    plan = plan_fetch(stored, 42)
    assert plan.first_uid == 131
    assert plan.cursor == stored
    assert plan.rescan is False


def test_a_uidvalidity_change_starts_a_new_epoch_and_rescans_from_the_first_uid() -> None:
    plan = plan_fetch(Cursor(uidvalidity=42, last_uid=130, epoch=3), 43)
    assert plan.rescan is True
    assert plan.first_uid == 1
    assert plan.cursor == Cursor(uidvalidity=43, last_uid=0, epoch=4)


def test_a_uidvalidity_that_goes_down_is_a_change_too() -> None:
    plan = plan_fetch(Cursor(uidvalidity=1000, last_uid=5), 7)
    assert plan.rescan is True
    assert plan.cursor.uidvalidity == 7
    assert plan.cursor.epoch == 2


def test_a_cursor_is_immutable() -> None:
    cursor = Cursor(1, 2)
    with pytest.raises(AttributeError):
        cursor.last_uid = 3  # type: ignore[misc]


# --- new_uids: the n:* trap ------------------------------------------------


def test_the_highest_uid_answered_for_n_star_is_dropped_when_it_is_not_new() -> None:
    """``UID SEARCH 131:*`` on a folder whose highest UID is 130 answers 130 (RFC 3501 6.4.8)."""
    assert new_uids([130], last_uid=130) == []


def test_a_uid_below_the_cursor_is_dropped() -> None:
    assert new_uids([97], last_uid=130) == []


def test_new_uids_are_returned_sorted_and_once() -> None:
    assert new_uids([140, 131, 135, 131, 129], last_uid=130) == [131, 135, 140]


def test_after_a_rescan_every_uid_is_new() -> None:
    assert new_uids([3, 1, 2], last_uid=0) == [1, 2, 3]


# --- batches ---------------------------------------------------------------


def test_batches_hold_at_most_max_count_messages() -> None:
    uids = list(range(1, 8))
    sizes = {uid: 10 for uid in uids}
    assert list(batches(uids, sizes, max_count=3, max_bytes=10_000)) == [[1, 2, 3], [4, 5, 6], [7]]


def test_batches_stay_within_max_bytes() -> None:
    sizes = {1: 400, 2: 400, 3: 300, 4: 700, 5: 1}
    assert list(batches([1, 2, 3, 4, 5], sizes, max_count=100, max_bytes=1000)) == [[1, 2], [3, 4], [5]]


def test_a_batch_may_fill_max_bytes_exactly() -> None:
    sizes = {1: 500, 2: 500, 3: 1}
    assert list(batches([1, 2, 3], sizes, max_count=100, max_bytes=1000)) == [[1, 2], [3]]


def test_one_message_larger_than_max_bytes_forms_a_batch_of_its_own() -> None:
    sizes = {1: 10, 2: 50_000, 3: 10, 4: 10}
    assert list(batches([1, 2, 3, 4], sizes, max_count=100, max_bytes=1000)) == [[1], [2], [3, 4]]


def test_an_oversize_first_message_is_fetched_alone_and_not_skipped() -> None:
    sizes = {1: 50_000, 2: 10}
    assert list(batches([1, 2], sizes, max_count=100, max_bytes=1000)) == [[1], [2]]


def test_a_message_of_unknown_size_counts_as_empty() -> None:
    assert list(batches([1, 2, 3], {2: 900}, max_count=100, max_bytes=1000)) == [[1, 2, 3]]


def test_batches_keep_every_uid_in_order() -> None:
    uids = list(range(1, 501))
    sizes = {uid: (uid * 37) % 900 for uid in uids}
    result = list(batches(uids, sizes, max_count=17, max_bytes=2000))
    assert [uid for batch in result for uid in batch] == uids
    for batch in result:
        assert len(batch) <= 17
        assert len(batch) == 1 or sum(sizes[u] for u in batch) <= 2000


def test_no_uids_give_no_batches() -> None:
    assert list(batches([], {}, max_count=10, max_bytes=10)) == []


