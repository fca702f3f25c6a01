"""The Graph client against our own Graph and Entra ID server: tokens, throttling, concurrency, GET only."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from support.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, GraphServer

from ingest.graph import GRAPH_SCOPE, GraphClient, GraphMailbox
from ingest.graph.client import retry_after_seconds
from ingest.graph.delta import DeltaItem, first_link, pages
from ingest.tokens import MsalTokenProvider
from klachtwacht.errors import AuthenticationFailed, MailboxThrottled

USER = "burgemeester@veenstad.nl"


def _client(server: GraphServer, *, secret: str = CLIENT_SECRET, sleeps: list[float] | None = None, **more: Any) -> GraphClient:
    tokens = MsalTokenProvider(TENANT, CLIENT_ID, secret, scope=GRAPH_SCOPE, authority=server.url, verify=str(server.ca_file))
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    return GraphClient(server.endpoint, tokens, verify=str(server.ca_file), sleep=record, **more)


def _fill(server: GraphServer, count: int, folder: str = "inbox") -> list[str]:
    return [server.add(USER, folder, b"Subject: %d\r\n\r\nTekst %d\r\n" % (i, i), internet_message_id=f"<m{i}@x.nl>") for i in range(count)]


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 12, 2, 14, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 02 Dec 2026 14:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 02 Dec 2026 13:59:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_msal_gets_its_token_from_the_configured_authority_and_graph_accepts_it(graph_server: GraphServer) -> None:
    _fill(graph_server, 3)
    with _client(graph_server) as client:
        page = next(pages(client, first_link(USER, "inbox"), 10))
    assert len(page.items) == 3 and page.delta_link is not None
    assert graph_server.tokens_issued == 1
    assert any(r.path == f"/{TENANT}/oauth2/v2.0/token" and r.method == "POST" for r in graph_server.requests)


def test_a_wrong_client_secret_is_an_authentication_failure_not_a_retry(graph_server: GraphServer) -> None:
    with _client(graph_server, secret="wrong") as client, pytest.raises(AuthenticationFailed, match="invalid_client"):
        client.get_json(first_link(USER, "inbox"))


def test_a_mailbox_outside_the_apps_access_policy_is_refused(graph_server: GraphServer) -> None:
    graph_server.allowed_users = ("griffie@veenstad.nl",)
    with _client(graph_server) as client, pytest.raises(AuthenticationFailed, match="403"):
        client.get_json(first_link(USER, "inbox"))


def test_a_token_that_expires_mid_delta_is_renewed_and_the_page_is_not_lost(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 25)
    seen: list[str] = []
    with _client(graph_server) as client:
        for number, page in enumerate(pages(client, first_link(USER, "inbox"), 10)):
            seen += [item.id for item in page.items]
            if number == 0:
                graph_server.expire_tokens()  # the next page's request carries a token the server now refuses
    assert seen == ids  # every message once, in order: the refused page was asked again, not skipped
    assert graph_server.tokens_issued == 2
    assert [r.status for r in graph_server.graph_requests("/delta")] == [200, 401, 200, 200]


def test_429_with_retry_after_is_waited_out_and_the_same_request_repeated(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 5)
    graph_server.throttle(2, retry_after=3)
    sleeps: list[float] = []
    with _client(graph_server, sleeps=sleeps) as client:
        page = next(pages(client, first_link(USER, "inbox"), 10))
        assert client.waited == pytest.approx(6.0)
    assert [item.id for item in page.items] == ids
    assert len(sleeps) == 2 and all(2.9 <= s <= 3.0 for s in sleeps)
    assert [r.status for r in graph_server.graph_requests("/delta")] == [429, 429, 200]


def test_503_is_waited_out_too(graph_server: GraphServer) -> None:
    _fill(graph_server, 1)
    graph_server.throttle(1, retry_after=2, status=503)
    sleeps: list[float] = []
    with _client(graph_server, sleeps=sleeps) as client:
        client.get_json(first_link(USER, "inbox"))
    assert len(sleeps) == 1 and sleeps[0] == pytest.approx(2.0, abs=0.1)


def test_a_retry_after_longer_than_the_client_waits_reaches_the_poller_with_its_hint(graph_server: GraphServer) -> None:
    graph_server.throttle(1, retry_after=600)
    with _client(graph_server, max_wait=120) as client, pytest.raises(MailboxThrottled) as caught:
        client.get_json(first_link(USER, "inbox"))
    assert caught.value.retry_after == 600


def test_no_more_requests_run_at_once_than_the_mailboxs_concurrency_limit(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 24)
    graph_server.delay = 0.05
    with _client(graph_server, concurrency=3) as client:
        fetched = GraphMailbox(client, USER).fetch([DeltaItem(i, None, None) for i in ids])
    assert len(fetched) == 24
    assert graph_server.max_in_flight == 3


def test_the_client_only_ever_sends_get_to_graph(graph_server: GraphServer) -> None:
    ids = _fill(graph_server, 12)
    with _client(graph_server) as client:
        source = GraphMailbox(client, USER)
        for page in pages(client, source.first_link("INBOX"), 5):
            source.fetch(list(page.items))
        assert not any(callable(getattr(client, verb, None)) for verb in ("post", "patch", "put", "delete"))
    graph = graph_server.graph_requests()
    assert len(graph) > len(ids) and {r.method for r in graph} == {"GET"}
