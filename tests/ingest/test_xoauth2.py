"""Exchange Online's XOAUTH2 login, against a real Dovecot that validates the tokens locally.

What is real here: the SASL XOAUTH2 exchange, token validation (signature,
expiry, user) by Dovecot, our reconnect with a fresh token. What is not: Entra
ID itself; MSAL's client-credentials call is replaced by a factory returning
an object with the same ``acquire_token_for_client`` contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.dovecot import Dovecot, make_token
from support.mail import make_mail

from ingest.imap import ImapConnection
from ingest.poller import poll_mailbox
from ingest.tokens import EXCHANGE_SCOPE, MsalTokenProvider, StaticTokenProvider
from klachtwacht.config import ImapConfig
from klachtwacht.errors import AuthenticationFailed, MailboxUnavailable

pytestmark = pytest.mark.dovecot
SECRET = "tenant-test-secret"
USER = "wethouder.devries@gemeente-veenstad.nl"


@pytest.fixture
def oauth_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(oauth2_secret=SECRET, exchange_like=True)
    server.start()
    try:
        server.append(USER, "INBOX", make_mail(subject="Via Exchange", body="x", message_id="<x1@example.nl>"))
        yield server
    finally:
        server.close()


def _imap(server: Dovecot) -> ImapConfig:
    return ImapConfig(host="127.0.0.1", port=server.port, security="none", username=USER, auth="xoauth2", connect_timeout=5, read_timeout=10)


class FakeMsalApp:
    """Stands in for msal.ConfidentialClientApplication: same call, same answer shape."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.scopes: list[list[str]] = []

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes.append(scopes)
        if not self.tokens:
            return {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x"}
        return {"access_token": self.tokens.pop(0), "token_type": "Bearer", "expires_in": 3599}


class Sink:
    def __init__(self) -> None:
        self.stored: list[int] = []

    def load_cursor(self, folder: str) -> None:
        return None

    def store_batch(self, folder: str, cursor: Any, messages: Any) -> int:
        self.stored.extend(m.uid for m in messages)
        return len(messages)

    def folder_error(self, folder: str, error: str) -> None:
        raise AssertionError(error)


def test_a_valid_app_only_token_logs_in_and_reads_the_mailbox(oauth_dovecot: Dovecot) -> None:
    conn = ImapConnection(_imap(oauth_dovecot), tokens=StaticTokenProvider(make_token(USER, SECRET)))
    sink = Sink()
    result = poll_mailbox("wethouder", conn, ["INBOX"], sink)
    assert result.new == 1 and sink.stored == [1]
    with conn:  # Exchange's capabilities: no CONDSTORE, and we never need it
        assert "IDLE" in conn.capabilities and "CONDSTORE" not in conn.capabilities


@pytest.mark.parametrize(
    "token",
    [
        make_token(USER, "another-secret"),
        make_token(USER, SECRET, expires_in=-60),
        make_token("someone.else@gemeente-veenstad.nl", SECRET),
    ],
    ids=["wrong-signature", "expired", "other-user"],
)
def test_a_bad_token_is_refused_as_authentication_failed(oauth_dovecot: Dovecot, token: str) -> None:
    conn = ImapConnection(_imap(oauth_dovecot), tokens=StaticTokenProvider(token))
    with pytest.raises(AuthenticationFailed):
        conn.connect()


def test_an_expired_cached_token_is_replaced_by_a_fresh_one(oauth_dovecot: Dovecot) -> None:
    app = FakeMsalApp([make_token(USER, SECRET, expires_in=-60), make_token(USER, SECRET)])
    provider = MsalTokenProvider("tenant", "client", "secret", app_factory=lambda: app)
    conn = ImapConnection(_imap(oauth_dovecot), tokens=provider)
    sink = Sink()
    result = poll_mailbox("wethouder", conn, ["INBOX"], sink)
    assert sink.stored == [1] and result.new == 1
    assert app.scopes == [[EXCHANGE_SCOPE], [EXCHANGE_SCOPE]]


def test_entra_id_refusing_the_client_is_an_authentication_error_without_the_secret() -> None:
    provider = MsalTokenProvider("tenant", "client", "the-client-secret", app_factory=lambda: FakeMsalApp([]))
    with pytest.raises(AuthenticationFailed) as caught:
        provider.token()
    assert "invalid_client" in str(caught.value) and "the-client-secret" not in str(caught.value)


def test_exchange_throttling_and_token_expiry_answers_are_translated() -> None:
    from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

    from ingest.imap import translate_error
    from klachtwacht.errors import MailboxThrottled

    throttled = translate_error(IMAPClientError("NO Request is throttled. Suggested Backoff Time: 299961 milliseconds"), "x")
    assert isinstance(throttled, MailboxThrottled) and throttled.retry_after == pytest.approx(299.961)
    expired = translate_error(IMAPClientAbortError("BYE Session invalidated - AccessTokenExpired"), "x")
    assert isinstance(expired, MailboxUnavailable) and "access token expired" in str(expired)
