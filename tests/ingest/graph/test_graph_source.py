"""The Graph source over the BatchSink seam: folders, cursors, resyncs and crashes, with a sink in memory."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timezone

import pytest
from support.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, GraphServer

from ingest.backoff import Backoff
from ingest.cursor import Cursor
from ingest.graph import GRAPH_SCOPE, GRAPH_UIDVALIDITY, GraphClient, GraphMailbox, message_uid, poll_graph_mailbox
from ingest.graph.delta import DeltaItem
from ingest.imap import FetchedMessage
from ingest.tokens import MsalTokenProvider
from klachtwacht.errors import DatabaseUnavailable, FolderMissing, MailboxUnavailable

USER = "burgemeester@veenstad.nl"


class MemorySink:
    """Sightings keyed as the database keys them: (folder, uidvalidity, uid)."""

    def __init__(self) -> None:
        self.cursors: dict[str, Cursor] = {}
        self.sightings: dict[tuple[str, int, int], bytes] = {}
        self.fail_at: set[int] = set()  # store_batch calls (counted from 1) that fail as a database away would
        self.calls = 0
        self.errors: list[str] = []

    def load_cursor(self, folder: str) -> Cursor | None:
        return self.cursors.get(folder)

    def store_batch(self, folder: str, cursor: Cursor, messages: Sequence[FetchedMessage]) -> int:
        self.calls += 1
        if self.calls in self.fail_at:
            raise DatabaseUnavailable("database away")
        new = 0
        for m in messages:
            key = (folder, cursor.uidvalidity, m.uid)
            assert key not in self.sightings, "a known sighting was fetched and stored again"
            self.sightings[key] = m.raw
            new += 1
        self.cursors[folder] = cursor
        return new

    def folder_error(self, folder: str, error: str) -> None:
        self.errors.append(f"{folder}: {error}")

    def known_uids(self, folder: str, uidvalidity: int, uids: Collection[int]) -> set[int]:
        return {u for u in uids if (folder, uidvalidity, u) in self.sightings}


def _source(server: GraphServer) -> GraphMailbox:
    tokens = MsalTokenProvider(TENANT, CLIENT_ID, CLIENT_SECRET, scope=GRAPH_SCOPE, authority=server.url, verify=str(server.ca_file))
    return GraphMailbox(GraphClient(server.endpoint, tokens, verify=str(server.ca_file)), USER)


def _poll(source: GraphMailbox, sink: MemorySink, folders: tuple[str, ...] = ("INBOX",), batch: int = 4) -> int:
    result = poll_graph_mailbox("burgemeester", source, folders, sink, batch_size=batch, backoff=Backoff(base=0.01, cap=0.05), sleep=lambda _s: None)
    assert not result.errors, result.errors
    return result.fetched


def _fill(server: GraphServer, count: int, folder: str = "inbox", start: int = 0) -> list[str]:
    return [server.add(USER, folder, b"Subject: %d\r\n\r\nTekst %d\r\n" % (i, i)) for i in range(start, start + count)]


def test_folders_are_found_by_well_known_name_in_any_case_and_by_path_of_display_names(graph_server: GraphServer) -> None:
    klachten = graph_server.add_folder(USER, "Klachten")
    year = graph_server.add_folder(USER, "2026", parent=klachten)
    for i in range(12):  # more folders than one listing page holds
        graph_server.add_folder(USER, f"Map {i}")
    source = _source(graph_server)
    assert source.resolve("INBOX") == "inbox"
    assert source.resolve("Archive") == "archive"
    assert source.resolve("klachten/2026") == year
    sub = graph_server.add_folder(USER, "Sub", parent="inbox")
    assert source.resolve("Inbox/Sub") == sub
    with pytest.raises(FolderMissing, match="Klachten/2027"):
        source.resolve("Klachten/2027")


def test_each_message_is_handed_to_the_sink_once_with_its_raw_bytes_and_receipt_time(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 11)
    sink = MemorySink()
    assert _poll(_source(graph_server), sink) == 11
    assert {uid for _, _, uid in sink.sightings} == {message_uid(i) for i in ids}
    assert sink.sightings[("INBOX", GRAPH_UIDVALIDITY, message_uid(ids[3]))] == b"Subject: 3\r\n\r\nTekst 3\r\n"
    cursor = sink.cursors["INBOX"]
    assert cursor.uidvalidity == GRAPH_UIDVALIDITY and cursor.epoch == 1 and cursor.link is not None and "$deltatoken=" in cursor.link


def test_a_second_pass_fetches_only_what_arrived_and_a_read_flag_fetches_nothing(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 6)
    sink, source = MemorySink(), _source(graph_server)
    _poll(source, sink)
    assert _poll(source, sink) == 0
    graph_server.touch(USER, ids[0])  # the owner read it: it comes back in the delta, same id
    later = _fill(graph_server, 2, start=6)
    values_before = len(graph_server.graph_requests("$value"))
    assert _poll(source, sink) == 2
    assert len(graph_server.graph_requests("$value")) - values_before == 2
    assert {message_uid(i) for i in later} <= {uid for _, _, uid in sink.sightings}


def test_a_database_away_mid_sync_resumes_at_the_stored_page_and_stores_nothing_twice(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 17)
    sink = MemorySink()
    sink.fail_at = {3}  # the third batch cannot be stored
    assert _poll(_source(graph_server), sink, batch=4) == 17
    assert len(sink.sightings) == 17
    assert len(graph_server.graph_requests("$value")) == 17 + 4  # only the batch that was not stored is fetched again
    assert {uid for _, _, uid in sink.sightings} == {message_uid(i) for i in ids}


def test_a_forgotten_delta_state_starts_a_new_epoch_and_refetches_nothing_it_has(graph_server: GraphServer) -> None:
    _fill(graph_server, 9)
    sink, source = MemorySink(), _source(graph_server)
    _poll(source, sink)
    graph_server.forget_sync_state()
    _fill(graph_server, 1, start=9)
    values_before = len(graph_server.graph_requests("$value"))
    result = poll_graph_mailbox("burgemeester", source, ("INBOX",), sink, batch_size=4)
    assert result.folders[0].rescanned
    assert result.fetched == 1 and len(graph_server.graph_requests("$value")) - values_before == 1
    assert sink.cursors["INBOX"].epoch == 2 and len(sink.sightings) == 10
    assert any(r.status == 410 for r in graph_server.graph_requests("/delta"))


def test_a_message_that_moves_out_is_not_fetched_again_and_shows_up_in_its_new_folder(graph_server: GraphServer) -> None:
    klachten = graph_server.add_folder(USER, "Klachten")
    ids = _fill(graph_server, 3)
    sink, source = MemorySink(), _source(graph_server)
    _poll(source, sink, ("INBOX", "Klachten"))
    new_id = graph_server.move(USER, ids[1], klachten)
    assert _poll(source, sink, ("INBOX", "Klachten")) == 1
    assert ("Klachten", GRAPH_UIDVALIDITY, message_uid(new_id)) in sink.sightings
    assert sink.sightings[("Klachten", GRAPH_UIDVALIDITY, message_uid(new_id))] == sink.sightings[("INBOX", GRAPH_UIDVALIDITY, message_uid(ids[1]))]


def test_a_folder_read_over_imap_before_gets_a_first_graph_sync_in_a_new_epoch(graph_server: GraphServer) -> None:
    _fill(graph_server, 2)
    sink = MemorySink()
    sink.cursors["INBOX"] = Cursor(uidvalidity=1234, last_uid=88, epoch=3)
    assert _poll(_source(graph_server), sink) == 2
    assert sink.cursors["INBOX"].uidvalidity == GRAPH_UIDVALIDITY and sink.cursors["INBOX"].epoch == 4


def test_a_missing_folder_is_reported_and_the_others_are_read(graph_server: GraphServer) -> None:
    _fill(graph_server, 2)
    sink = MemorySink()
    result = poll_graph_mailbox("burgemeester", _source(graph_server), ("Bestaat/Niet", "INBOX"), sink, batch_size=4)
    assert result.fetched == 2
    assert len(result.errors) == 1 and "Bestaat/Niet" in result.errors[0] and sink.errors


def test_the_delta_asks_only_for_the_fields_that_decide_what_to_fetch(graph_server: GraphServer) -> None:
    _fill(graph_server, 1)
    _poll(_source(graph_server), MemorySink())
    first = graph_server.graph_requests("/delta")[0]
    assert first.path.endswith("/messages/delta?$select=id,internetMessageId,receivedDateTime,parentFolderId")
    assert first.prefer is not None and "odata.maxpagesize=4" in first.prefer


def test_a_start_date_limits_the_first_sync_to_mail_received_from_then_on(graph_server: GraphServer) -> None:
    old = graph_server.add(USER, "inbox", b"Subject: oud\r\n\r\nx", received=datetime(2025, 12, 31, 23, 59, tzinfo=timezone.utc))
    new = graph_server.add(USER, "inbox", b"Subject: nieuw\r\n\r\nx", received=datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc))
    source = _source(graph_server)
    source.since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    sink = MemorySink()
    assert _poll(source, sink) == 1
    assert {uid for _, _, uid in sink.sightings} == {message_uid(new)} and message_uid(old) not in {uid for _, _, uid in sink.sightings}
    assert graph_server.graph_requests("/delta")[0].path.endswith("&$filter=receivedDateTime%20ge%202026-01-01T00%3A00%3A00Z")


def test_a_message_that_left_between_the_page_and_its_fetch_is_skipped_not_an_error(graph_server: GraphServer) -> None:
    stays, leaves = _fill(graph_server, 2)
    graph_server.delete(USER, leaves)
    fetched = _source(graph_server).fetch([DeltaItem(stays, None, None), DeltaItem(leaves, None, None)])
    assert [m.uid for m in fetched] == [message_uid(stays)]


def test_graph_out_of_reach_is_a_retryable_mailbox_error(graph_server: GraphServer) -> None:
    source = _source(graph_server)
    source.client.get_json(f"users/{USER}/mailFolders")  # a token first, while the server runs
    graph_server.close()
    with pytest.raises(MailboxUnavailable, match="cannot reach Graph"):
        source.client.get_json(source.first_link("INBOX"))
