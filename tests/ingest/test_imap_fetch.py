"""Fetching on a real Dovecot: bodies are read once, never traced into the log or copied for it."""

from __future__ import annotations

import logging
import tracemalloc
from typing import Any

import pytest
from support.mail import make_mail

from ingest.imap import ImapConnection
from klachtwacht.config import ImapConfig, Secret

pytestmark = pytest.mark.dovecot


def _connection(dovecot: Any) -> ImapConnection:
    config = ImapConfig(host="127.0.0.1", port=dovecot.port, security="none", username="wethouder", password=Secret("geheim-wachtwoord"))
    return ImapConnection(config, label="wethouder-devries")


def test_with_debug_logging_no_body_reaches_the_log(dovecot: Any, caplog: pytest.LogCaptureFixture) -> None:
    dovecot.append("wethouder", "INBOX", make_mail(subject="Onderwerp-geheim-7731", body="Mijn BSN is 999999990 en mijn adres is geheim-4411."))
    with caplog.at_level(logging.DEBUG), _connection(dovecot) as conn:
        conn.examine("INBOX")
        [fetched] = conn.fetch(conn.uids_from(1))
    assert b"geheim-4411" in fetched.raw
    assert "geheim-4411" not in caplog.text and "999999990" not in caplog.text and "Onderwerp-geheim-7731" not in caplog.text


def test_a_large_message_is_held_once_while_it_is_fetched(dovecot: Any) -> None:
    raw = make_mail(subject="Grote bijlage", body="Zie bijlage.", attachment=("scan.pdf", bytes(range(256)) * (8 * 1024 * 1024 // 256)))
    dovecot.append("wethouder", "INBOX", raw)
    with _connection(dovecot) as conn:
        conn.examine("INBOX")
        uids = conn.uids_from(1)
        tracemalloc.start()
        try:
            [fetched] = conn.fetch(uids)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert len(fetched.raw) >= len(raw)
    assert peak < 1.5 * len(raw), f"fetching {len(raw)} bytes took {peak} bytes at the peak"
