"""Which message is this? (ingest/identity.py)."""

from __future__ import annotations

import hashlib
import random

import pytest

from ingest.identity import MAX_HEADER_SCAN, header_message_id, message_identity, sha256_hex

HEADERS = (
    b"Received: from mx1.example.nl by imap.gemeente.example\r\n"
    b"From: Burger <burger@example.nl>\r\n"
    b"To: wethouder@gemeente.example\r\n"
    b"Subject: Klacht over het afval\r\n"
)
BODY = b"Geachte wethouder,\r\n\r\nDe container is weer niet geleegd.\r\n"


def mail(*headers: bytes, body: bytes = BODY) -> bytes:
    return HEADERS + b"".join(headers) + b"\r\n" + body


def test_the_message_id_of_the_header_block_is_the_identity() -> None:
    raw = mail(b"Message-ID: <abc.123@mail.example.nl>\r\n")
    assert message_identity(raw) == ("mid:<abc.123@mail.example.nl>", "<abc.123@mail.example.nl>")


def test_a_message_id_folded_onto_the_next_line_is_unfolded() -> None:
    raw = mail(b"Message-ID:\r\n <folded.1@mail.example.nl>\r\n")
    assert header_message_id(raw) == "<folded.1@mail.example.nl>"


def test_a_message_id_folded_with_a_tab_and_bare_newlines_is_unfolded() -> None:
    raw = b"From: a@example.nl\nMessage-Id:\n\t<folded.2@mail.example.nl>\nSubject: x\n\nbody\n"
    assert header_message_id(raw) == "<folded.2@mail.example.nl>"


def test_a_message_id_folded_inside_its_value_comes_back_on_one_line() -> None:
    raw = mail(b"Message-ID: <lang.0123456789.abcdef\r\n\t@mail.example.nl>\r\n")
    message_id = header_message_id(raw)
    assert message_id is not None
    assert "\r" not in message_id and "\n" not in message_id
    assert message_id.startswith("<lang.0123456789.abcdef") and message_id.endswith("@mail.example.nl>")


def test_the_header_after_a_folded_message_id_is_not_taken_into_it() -> None:
    raw = mail(b"Message-ID:\r\n <folded.3@mail.example.nl>\r\nX-Mailer: Outlook\r\n")
    assert header_message_id(raw) == "<folded.3@mail.example.nl>"


@pytest.mark.parametrize("name", [b"Message-ID", b"MESSAGE-ID", b"message-id", b"Message-Id"])
def test_the_header_name_is_matched_without_regard_to_case(name: bytes) -> None:
    raw = mail(name + b": <case@mail.example.nl>\r\n")
    assert header_message_id(raw) == "<case@mail.example.nl>"


def test_surrounding_whitespace_is_stripped_from_the_message_id() -> None:
    raw = mail(b"Message-ID: \t <space@mail.example.nl>  \r\n")
    assert header_message_id(raw) == "<space@mail.example.nl>"


def test_without_a_message_id_the_identity_is_the_sha256_of_the_bytes() -> None:
    raw = mail()
    assert message_identity(raw) == ("sha:" + hashlib.sha256(raw).hexdigest(), None)


def test_a_digest_already_computed_is_used_for_the_sha_identity() -> None:
    assert message_identity(mail(), digest="feedface") == ("sha:feedface", None)


def test_a_digest_does_not_replace_a_message_id() -> None:
    raw = mail(b"Message-ID: <kept@mail.example.nl>\r\n")
    assert message_identity(raw, digest="feedface")[0] == "mid:<kept@mail.example.nl>"


def test_message_id_text_in_the_body_is_ignored() -> None:
    raw = mail(body=b"Zie mijn vorige mail.\r\nMessage-ID: <in-body@mail.example.nl>\r\n")
    assert header_message_id(raw) is None
    assert message_identity(raw)[0].startswith("sha:")


def test_a_header_that_only_ends_in_message_id_is_not_the_message_id() -> None:
    raw = mail(b"X-Original-Message-ID: <original@mail.example.nl>\r\nResent-Message-ID: <resent@mail.example.nl>\r\n")
    assert header_message_id(raw) is None


@pytest.mark.parametrize("value", [b"", b"   ", b"geen-id-hier"])
def test_an_empty_or_meaningless_message_id_counts_as_absent(value: bytes) -> None:
    raw = mail(b"Message-ID: " + value + b"\r\n")
    assert header_message_id(raw) is None


def test_the_same_mail_delivered_to_two_mailboxes_has_one_identity() -> None:
    """Cc'd to a wethouder and the raad: other Received and Delivered-To headers, one Message-ID."""
    one = b"Delivered-To: wethouder@gemeente.example\r\nReceived: by mx1\r\n" + mail(b"Message-ID: <cc@mail.example.nl>\r\n")
    two = b"Delivered-To: raad@gemeente.example\r\nReceived: by mx2\r\n" + mail(b"Message-ID: <cc@mail.example.nl>\r\n")
    assert one != two
    assert message_identity(one)[0] == message_identity(two)[0]


def test_two_different_mails_without_a_message_id_have_different_identities() -> None:
    assert message_identity(mail(body=b"een\r\n"))[0] != message_identity(mail(body=b"twee\r\n"))[0]


def test_a_message_id_beyond_the_scanned_header_bytes_is_not_looked_for() -> None:
    padding = b"X-Padding: " + b"a" * 70 + b"\r\n"
    raw = padding * (MAX_HEADER_SCAN // len(padding) + 1) + b"Message-ID: <late@mail.example.nl>\r\n\r\nbody"
    assert header_message_id(raw) is None


def test_a_message_id_with_invalid_utf8_is_decoded_with_replacement() -> None:
    raw = mail(b"Message-ID: <caf\xe9@mail.example.nl>\r\n")
    assert header_message_id(raw) == "<caf\ufffd@mail.example.nl>"


FRAGMENTS = [b"Message-ID:", b"message-id :", b"\r\n", b"\n", b"\r", b" ", b"\t", b"<", b">", b"@", b"\xff\xfe", b"\x00", b"\r\n\r\n"]


@pytest.mark.parametrize("seed", range(40))
def test_binary_junk_never_raises(seed: int) -> None:
    """Random bytes mixed with header fragments: an identity always comes back, a Message-ID is one unfolded line."""
    rng = random.Random(seed)
    parts = [rng.choice(FRAGMENTS) if rng.random() < 0.6 else rng.randbytes(rng.randrange(1, 40)) for _ in range(rng.randrange(0, 200))]
    raw = b"".join(parts)
    identity, message_id = message_identity(raw)
    if message_id is None:
        assert identity == "sha:" + sha256_hex(raw)
    else:
        assert identity == "mid:" + message_id
        assert "\n" not in message_id and len(message_id) <= 998
        assert message_id == message_id.strip()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"\x00" * 1000,
        b"Message-ID:",
        b"Message-ID:\r\n",
        b"Message-ID: <\xff\xfe\x00@\x80>\r\n\r\n",
    ],
)
def test_degenerate_mail_never_raises(raw: bytes) -> None:
    identity, message_id = message_identity(raw)
    assert identity in ("sha:" + sha256_hex(raw), f"mid:{message_id}")


def test_a_mail_with_an_empty_header_block_has_no_message_id() -> None:
    assert header_message_id(b"\n\nMessage-ID: <in-body@example.nl>\n") is None
