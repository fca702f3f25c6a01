"""``[mailboxes.graph]``: a mailbox read over Microsoft Graph, typed and checked, every error naming its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from klachtwacht.config import GRAPH_POLL_INTERVAL, NO_IMAP, Secret, parse_config
from klachtwacht.errors import ConfigError

PATH = "/etc/klachtwacht/gemeente.toml"
SECRET = "entra-client-secret-9c2e"
ENV = {"KW_GRAPH_SECRET": SECRET}


def _graph(**changes: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"tenant_id": "6f1c0e3a", "client_id": "0b5c7a6e", "client_secret_env": "KW_GRAPH_SECRET", "user": "burgemeester@gemeente.example"}
    table.update(changes)
    return {k: v for k, v in table.items() if v is not None}


def _config(graph: dict[str, Any] | None = None, **mailbox: Any) -> Any:
    box: dict[str, Any] = {"name": "burgemeester", "role": "burgemeester", "address": "burgemeester@gemeente.example", "graph": graph or _graph()}
    box.update(mailbox)
    return parse_config({"mailboxes": [box]}, PATH, env=ENV)


def _error(graph: dict[str, Any] | None = None, **mailbox: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        _config(graph, **mailbox)
    return caught.value


def test_a_graph_mailbox_is_read_with_the_public_cloud_and_a_one_minute_poll_by_default() -> None:
    [box] = _config().mailboxes
    assert box.graph is not None and box.imap is NO_IMAP
    assert box.graph.client_secret == Secret(SECRET) and SECRET not in repr(box)
    assert box.graph.authority == "https://login.microsoftonline.com"
    assert box.graph.endpoint == "https://graph.microsoft.com/v1.0"
    assert box.graph.concurrency == 4 and box.graph.user == "burgemeester@gemeente.example"
    assert box.poll_interval == GRAPH_POLL_INTERVAL == 60.0
    assert box.folders == ("INBOX",)


def test_the_client_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "graph-secret"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    [box] = _config(_graph(client_secret_env=None, client_secret_file=str(secret))).mailboxes
    assert box.graph is not None and box.graph.client_secret.reveal() == SECRET


def test_a_national_cloud_and_a_poll_interval_can_be_set() -> None:
    [box] = _config(_graph(authority="https://login.microsoftonline.us/", endpoint="https://graph.microsoft.us/v1.0"), poll_interval=30).mailboxes
    assert box.graph is not None and box.graph.authority == "https://login.microsoftonline.us" and box.poll_interval == 30.0


@pytest.mark.parametrize(
    ("graph", "mailbox", "key", "problem"),
    [
        (_graph(user=None), {}, "mailboxes[0].graph.user", "is required"),
        (_graph(tenant_id=None), {}, "mailboxes[0].graph.tenant_id", "is required"),
        (_graph(client_secret_env=None), {}, "mailboxes[0].graph.client_secret_env", "client secret or certificate is required"),
        (_graph(client_secret="inline"), {}, "mailboxes[0].graph.client_secret", "never inline"),
        (_graph(client_secret_env="KW_NOT_SET"), {}, "mailboxes[0].graph.client_secret_env", "is not set"),
        (_graph(concurrency=8), {}, "mailboxes[0].graph.concurrency", "at most 4"),
        (_graph(endpoint="http://graph.local/v1.0"), {}, "mailboxes[0].graph.endpoint", "https://"),
        (_graph(tenant=1), {}, "mailboxes[0].graph.tenant", "unknown key"),
        (_graph(user="burgemeester gemeente"), {}, "mailboxes[0].graph.user", "user principal name"),
        (_graph(), {"imap": {"host": "x", "username": "y", "password_env": "KW_GRAPH_SECRET"}}, "mailboxes[0].graph", "not both"),
    ],
)
def test_a_wrong_graph_table_names_the_key(graph: dict[str, Any], mailbox: dict[str, Any], key: str, problem: str) -> None:
    error = _error(graph, **mailbox)
    assert error.key == key and problem in error.problem


def test_a_mailbox_without_imap_or_graph_says_both_are_possible() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"mailboxes": [{"name": "b", "role": "burgemeester", "address": "b@gemeente.example"}]}, PATH, env=ENV)
    assert caught.value.key == "mailboxes[0].imap" and "[mailboxes.graph]" in caught.value.problem


def test_a_certificate_file_must_hold_key_and_certificate_and_replaces_the_secret(tmp_path: Path) -> None:
    half = tmp_path / "only-cert.pem"
    half.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", encoding="utf-8")
    error = _error(_graph(client_secret_env=None, certificate_file=str(half)))
    assert error.key == "mailboxes[0].graph.certificate_file" and "private key and the certificate" in error.problem
    error = _error(_graph(certificate_file=str(half)))
    assert error.key == "mailboxes[0].graph.certificate_file" and "not both" in error.problem
