"""Configured folder names become the server's names through NAMESPACE and the hierarchy separator."""

from __future__ import annotations

from ingest.folders import folder_candidates


def test_inbox_is_inbox_on_every_server() -> None:
    assert folder_candidates("inbox", [("INBOX.", ".")], ".") == ["INBOX"]


def test_dovecot_and_exchange_keep_the_name_as_written() -> None:
    assert folder_candidates("Klachten", [("", "/")], "/")[0] == "Klachten"


def test_courier_puts_personal_folders_under_inbox_with_a_dot() -> None:
    assert "INBOX.Klachten" in folder_candidates("Klachten", [("INBOX.", ".")], ".")
    assert "INBOX.Klachten.2026" in folder_candidates("Klachten/2026", [("INBOX.", ".")], ".")


def test_cyrus_without_altnamespace_puts_them_under_inbox_with_its_separator() -> None:
    assert "INBOX/Klachten" in folder_candidates("Klachten", [("INBOX/", "/")], "/")
    assert "INBOX.Klachten" in folder_candidates("Klachten", [("INBOX.", ".")], ".")


def test_a_name_already_written_with_the_prefix_is_not_prefixed_twice() -> None:
    assert folder_candidates("INBOX.Klachten", [("INBOX.", ".")], ".") == ["INBOX.Klachten"]


def test_without_namespace_the_separator_of_list_is_used() -> None:
    assert folder_candidates("Klachten/2026", [], ".") == ["Klachten/2026", "Klachten.2026", "INBOX.Klachten.2026"]
