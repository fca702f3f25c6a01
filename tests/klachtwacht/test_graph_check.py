"""``klachtwacht check`` on a Graph mailbox, against our own Graph server: token, folders, counts; and what it says when they fail."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from support.graph_server import CLIENT_SECRET, GraphServer, graph_mailbox_toml, make_client_certificate

from klachtwacht.check.local import check_mailbox
from klachtwacht.check.result import FAIL, OK
from klachtwacht.config import parse_config

USER = "burgemeester@veenstad.nl"


def _mailbox(server: GraphServer, folders: tuple[str, ...], secret: str = CLIENT_SECRET) -> Any:
    data = tomllib.loads(graph_mailbox_toml(server, "burgemeester", USER, folders=folders))
    return parse_config(data, "test.toml", env={"KW_TEST_GRAPH_SECRET": secret}).mailboxes[0]


def test_check_reports_the_token_and_each_folders_count(graph_server: GraphServer) -> None:
    klachten = graph_server.add_folder(USER, "Klachten")
    for i in range(3):
        graph_server.add(USER, klachten, b"Subject: %d\r\n\r\nx" % i)
    results = check_mailbox(_mailbox(graph_server, ("INBOX", "Klachten")), 0)
    assert [r.status for r in results] == [OK, OK, OK]
    assert "0 messages" in results[1].detail and "3 messages" in results[2].detail
    assert {r.method for r in graph_server.graph_requests()} == {"GET"}


def test_check_names_the_key_and_the_permission_when_the_secret_is_wrong(graph_server: GraphServer) -> None:
    [result] = check_mailbox(_mailbox(graph_server, ("INBOX",), secret="wrong"), 0)
    assert result.status == FAIL and result.detail.startswith("mailboxes[0].graph: ") and "Mail.Read" in result.detail


def test_check_names_a_folder_that_does_not_exist(graph_server: GraphServer) -> None:
    results = check_mailbox(_mailbox(graph_server, ("INBOX", "Klachten/2030")), 0)
    assert [r.status for r in results] == [OK, OK, FAIL]
    assert "mailboxes[0].folders: 'Klachten/2030' not found" in results[2].detail


def test_a_certificate_credential_gets_a_token_and_an_unregistered_one_is_refused(graph_server: GraphServer, tmp_path: Path) -> None:
    registered, certificate = make_client_certificate(tmp_path, "geregistreerd")
    stranger, _ = make_client_certificate(tmp_path, "onbekend")
    graph_server.certificates.append(certificate)
    for pem, expected in ((registered, OK), (stranger, FAIL)):
        data = tomllib.loads(graph_mailbox_toml(graph_server, "burgemeester", USER, folders=("INBOX",)).replace(
            'client_secret_env = "KW_TEST_GRAPH_SECRET"', f'certificate_file = "{pem}"'))
        [mailbox] = parse_config(data, "test.toml", env={}).mailboxes
        assert mailbox.graph.client_secret is None and mailbox.graph.certificate is not None
        results = check_mailbox(mailbox, 0)
        assert results[0].status == expected, results[0].detail
    assert graph_server.tokens_issued == 1
