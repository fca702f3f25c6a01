"""Recovery: what comes before the headers, unindented folds, two From fields and address mistakes; every repair a defect."""

from __future__ import annotations

import pytest

from ingest.parse import parse_message
from ingest.records import Address
from ingest.recover import recover_start, rejoin_headers
from klachtwacht.errors import ParseError

MAIL = b"From: Jan Jansen <jan@example.nl>\r\nSubject: Klacht\r\nDate: Mon, 3 Mar 2025 10:00:00 +0100\r\n\r\nDe brug is al weken dicht.\r\n"


@pytest.mark.parametrize(
    "before, defect",
    [
        (b"\xef\xbb\xbf", "a byte-order mark before the header block was skipped"),
        (b"  \t", "white space before the header block was skipped"),
        (b"\r\n\r\n", "blank lines before the header block were skipped"),
        (b"---- Original email message ----\r\n", "a forwarding banner before the header block was skipped"),
        (b"-----Original Message-----\r\n", "a forwarding banner before the header block was skipped"),
        (b"----- Forwarded message from jan@example.nl -----\r\n", "a forwarding banner before the header block was skipped"),
        (b"________________________________\r\n", "a forwarding banner before the header block was skipped"),
        (b"Begin forwarded message:\r\n\r\n", "a forwarding banner before the header block was skipped"),
    ],
)
def test_what_comes_before_the_header_block_is_skipped_with_a_defect(before: bytes, defect: str) -> None:
    parsed = parse_message(before + MAIL)
    assert parsed.sender == Address("jan@example.nl", "Jan Jansen")
    assert parsed.subject == "Klacht" and parsed.text == "De brug is al weken dicht."
    assert parsed.defects == (defect,)


def test_a_message_saved_as_utf16_is_read() -> None:
    parsed = parse_message("From: jan@example.nl\r\nSubject: één klacht\r\n\r\ncafé\r\n".encode("utf-16"))
    assert parsed.subject == "één klacht" and parsed.text == "café"
    assert "the message was saved as UTF-16; read as UTF-8" in parsed.defects


def test_a_banner_before_something_that_is_not_mail_is_still_refused() -> None:
    with pytest.raises(ParseError, match="no header block"):
        recover_start(b"---- Original email message ----\r\nDit is gewoon tekst.\r\n")


def test_a_subject_folded_without_indentation_keeps_the_fields_after_it() -> None:
    raw = MAIL.replace(b"Subject: Klacht\r\n", b"Subject: Klacht over de\r\nbrug bij het station\r\nMessage-ID: <fold@example.nl>\r\n")
    parsed = parse_message(raw)
    assert parsed.subject == "Klacht over de brug bij het station"
    assert parsed.message_id == "<fold@example.nl>" and parsed.date is not None
    assert parsed.defects == ("1 header line folded without indentation joined to the field before",)


def test_body_text_right_after_the_headers_is_not_joined_to_them() -> None:
    raw = b"From: jan@example.nl\r\nSubject: x\r\nDe brug is dicht.\r\nAl weken.\r\n"
    assert rejoin_headers(raw) == (raw, [])


def test_of_two_from_fields_the_one_with_an_address_counts() -> None:
    parsed = parse_message(MAIL.replace(b"From: Jan", b"From: Formulier\r\nFrom: Jan"))
    assert parsed.sender == Address("jan@example.nl", "Jan Jansen")
    assert "2 From headers; the first with an address (number 2) is used" in parsed.defects


def test_of_two_from_fields_with_an_address_the_first_counts() -> None:
    parsed = parse_message(MAIL.replace(b"From: Jan", b"From: Piet <piet@example.nl>\r\nFrom: Jan"))
    assert parsed.sender == Address("piet@example.nl", "Piet")
    assert "2 From headers; the first is used" in parsed.defects


@pytest.mark.parametrize(
    "field, address, name, how",
    [
        (b"jan@example.nl.", "jan@example.nl", "", "a dot after the domain removed"),
        (b"Jan Jansen <jan@example.nl.>", "jan@example.nl", "Jan Jansen", "a dot after the domain removed"),
        (b"Jan Jansen jan@example.nl", "jan@example.nl", "Jan Jansen", "angle brackets put around the address after the name"),
        (b"jan@@example.nl", "jan@example.nl", "", "a doubled @ removed"),
        (b"Jan Jansen <mailto:jan@example.nl>", "jan@example.nl", "Jan Jansen", "the address between the angle brackets recovered"),
        (b"Jan Jansen [jan@example.nl]", "jan@example.nl", "Jan Jansen", "angle brackets put around the address after the name"),
        (b"Jan Jansen mailto:jan@example.nl", "jan@example.nl", "Jan Jansen", "angle brackets put around the address after the name"),
        (b"Jan Jansen <jan@example..nl>", "jan@example.nl", "Jan Jansen", "a doubled dot in the domain removed"),
    ],
)
def test_obvious_address_mistakes_are_repaired_with_a_defect(field: bytes, address: str, name: str, how: str) -> None:
    parsed = parse_message(MAIL.replace(b"Jan Jansen <jan@example.nl>", field))
    assert parsed.sender == Address(address, name)
    assert "From header: address repaired (%s)" % how in parsed.defects


def test_a_from_field_without_any_address_keeps_its_name() -> None:
    parsed = parse_message(MAIL.replace(b"Jan Jansen <jan@example.nl>", b"Jan Jansen"))
    assert parsed.sender == Address("", "Jan Jansen")
    assert "From header holds no usable address" in parsed.defects


def test_an_unquoted_comma_in_a_lone_name_stays_in_the_name() -> None:
    parsed = parse_message(MAIL.replace(b"Jan Jansen <jan@example.nl>", b"Jansen, Jan <jan@example.nl>"))
    assert parsed.sender == Address("jan@example.nl", "Jansen, Jan")
    assert "From header: a comma in the name without quotes was read as part of the name" in parsed.defects
