"""Edge cases of :func:`ingest.parse.parse_message` and of :func:`ingest.autosignals.auto_signals`."""

from __future__ import annotations

import base64
import email
import hashlib
import json
import logging
import time
from datetime import timezone
from pathlib import Path

import mailparser
import pytest

from ingest import parse as parse_module
from ingest import walk as walk_module
from ingest.autosignals import auto_signals
from ingest.htmltext import convert_html, html_to_text
from ingest.identity import header_message_id
from ingest.parse import MAX_DEFECTS, MAX_DEPTH, MAX_ENCODED_WORDS, MAX_PARTS, parse_message
from ingest.records import AUTO_SIGNALS, Address, parsed_from_dict, parsed_to_dict
from klachtwacht.errors import ParseError

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def mail(headers: str, body: bytes | str = "Hallo wethouder.\n", *, charset: str | None = None) -> bytes:
    """A small message; ``headers`` are lines without the final blank line."""
    head = "From: Jan Jansen <jan@example.nl>\nTo: wethouder@gemeente-veenstad.nl\n"
    head += "Date: Mon, 3 Mar 2025 10:00:00 +0100\n" + headers.strip("\n") + "\n"
    if charset:
        head += "MIME-Version: 1.0\nContent-Type: text/plain; charset=%s\n" % charset
    data = body.encode("utf-8") if isinstance(body, str) else body
    return head.encode("utf-8") + b"\n" + data


def nested(depth: int) -> bytes:
    """multipart/mixed nested ``depth`` levels."""
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth))
    closing = b"".join(b"--b%d--\n" % i for i in reversed(range(depth)))
    head = mail("Subject: nest").replace(b"\n\nHallo wethouder.\n", b"\n")
    return head + opening + b"Content-Type: text/plain\n\nx\n" + closing


def many_parts(count: int) -> bytes:
    parts = b"".join(b"--m\nContent-Type: text/plain\n\ndeel %d\n" % i for i in range(count))
    return mail('Subject: veel\nContent-Type: multipart/mixed; boundary="m"', parts + b"--m--\n")


# -- message ids, headers, addresses, dates -----------------------------------------------------------


def test_exchange_bracketed_message_id_is_kept_without_crashing() -> None:
    parsed = parse_message(mail("Message-ID: <[A1B2C3D4]@EXCH01.gemeente.local>\nSubject: x"))
    assert parsed.message_id == "<[A1B2C3D4]@EXCH01.gemeente.local>"


def test_message_id_is_the_same_as_the_deduplication_identity() -> None:
    for path in sorted(GOLDEN.glob("*.eml"))[:30]:
        raw = path.read_bytes()
        try:
            parsed = parse_message(raw)
        except ParseError:
            continue
        # identity sees no header block behind leading blank lines; the parser skips them
        assert parsed.message_id == header_message_id(raw.lstrip(b"\r\n")), path.name


def test_a_missing_message_id_is_none_not_an_error() -> None:
    parsed = parse_message(mail("Subject: geen id"))
    assert parsed.message_id is None
    assert parsed.defects == ()


def test_eight_bit_latin1_subject_is_decoded_and_recorded_as_a_defect() -> None:
    parsed = parse_message(mail("Subject: Caf\xe9 De Zwaan").replace(b"Caf\xc3\xa9", b"Caf\xe9"))
    assert parsed.subject == "Café De Zwaan"
    assert any("Subject header" in d and "Windows-1252" in d for d in parsed.defects)


def test_eight_bit_utf8_headers_are_accepted_without_a_defect() -> None:
    parsed = parse_message(mail("Subject: één klacht").replace(b"Jan Jansen", "Jan Ünal".encode()))
    assert parsed.subject == "één klacht"
    assert parsed.sender == Address(address="jan@example.nl", name="Jan Ünal")
    assert parsed.defects == ()


def test_encoded_words_split_inside_a_character_are_joined_before_decoding() -> None:
    data = "Klacht – één".encode()
    first, second = base64.b64encode(data[:9]).decode(), base64.b64encode(data[9:]).decode()
    parsed = parse_message(mail("Subject: =?utf-8?b?%s?=\n =?utf-8?b?%s?=" % (first, second)))
    assert parsed.subject == "Klacht – één"


def test_encoded_word_in_an_unknown_charset_keeps_its_bytes_visible() -> None:
    parsed = parse_message(mail("Subject: =?x-nonsense?q?caf=E9_=81?="))
    assert parsed.subject == "café \ufffd"
    assert any("x-nonsense" in d for d in parsed.defects)


def test_sender_address_is_lower_cased_and_the_name_decoded() -> None:
    parsed = parse_message(mail("Subject: x").replace(b"Jan Jansen <jan@example.nl>", b"=?utf-8?q?Jo=C3=ABl?= <Joel@Example.NL>"))
    assert parsed.sender == Address(address="joel@example.nl", name="Joël")


def test_a_from_header_without_an_address_keeps_the_name_and_records_a_defect() -> None:
    parsed = parse_message(mail("Subject: x").replace(b"Jan Jansen <jan@example.nl>", b"Jan Jansen"))
    assert parsed.sender is not None and parsed.sender.address == ""
    assert any("no usable address" in d for d in parsed.defects)


def test_a_message_without_from_has_no_sender_and_a_defect() -> None:
    parsed = parse_message(b"To: a@example.nl\nSubject: x\nDate: Mon, 3 Mar 2025 10:00:00 +0100\n\nanoniem\n")
    assert parsed.sender is None
    assert "no From header" in parsed.defects


def test_return_path_is_empty_for_angle_brackets_and_none_when_absent() -> None:
    assert parse_message(mail("Return-Path: <>\nSubject: x")).return_path == ""
    assert parse_message(mail("Return-Path: <Bounce@Example.NL>\nSubject: x")).return_path == "bounce@example.nl"
    assert parse_message(mail("Subject: x")).return_path is None


def test_date_without_a_time_zone_is_taken_as_utc() -> None:
    parsed = parse_message(mail("Subject: x").replace(b"+0100", b""))
    assert parsed.date is not None and parsed.date.utcoffset() == timezone.utc.utcoffset(None)


def test_an_unreadable_date_is_none_with_a_defect() -> None:
    parsed = parse_message(mail("Subject: x").replace(b"Mon, 3 Mar 2025 10:00:00 +0100", b"ergens in maart"))
    assert parsed.date is None
    assert "Date header is unreadable" in parsed.defects


def test_references_keep_the_first_and_the_last_ids_when_there_are_many() -> None:
    ids = " ".join("<r%d@example.nl>" % i for i in range(300))
    parsed = parse_message(mail("Subject: x\nReferences: " + ids + "\nIn-Reply-To:\n <r299@example.nl>"))
    assert len(parsed.references) == 100
    assert parsed.references[0] == "<r0@example.nl>" and parsed.references[-1] == "<r299@example.nl>"
    assert parsed.in_reply_to == "<r299@example.nl>"


def test_repeated_single_headers_use_the_first_and_record_a_defect() -> None:
    parsed = parse_message(mail("Subject: eerste\nSubject: tweede"))
    assert parsed.subject == "eerste"
    assert "2 Subject headers; the first is used" in parsed.defects


# -- bodies and charsets -------------------------------------------------------------------------------


def test_crlf_and_lf_versions_of_a_message_parse_to_the_same_record() -> None:
    lf = (GOLDEN / "line_endings_lf.eml").read_bytes()
    assert parse_message(lf) == parse_message(lf.replace(b"\n", b"\r\n"))


def test_unknown_charset_is_decoded_with_a_fallback_and_a_defect() -> None:
    parsed = parse_message(mail("Subject: x", "caf\xe9\n".encode("latin-1"), charset="x-unknown"))
    assert parsed.text == "café"
    assert any("unknown charset 'x-unknown'" in d for d in parsed.defects)


def test_declared_utf8_with_latin1_bytes_falls_back_to_windows_1252() -> None:
    parsed = parse_message(mail("Subject: x", "geïrriteerd\n".encode("latin-1"), charset="utf-8"))
    assert parsed.text == "geïrriteerd"
    assert any("not valid utf-8" in d for d in parsed.defects)


def test_bytes_that_no_fallback_can_read_become_replacement_characters_not_gaps() -> None:
    parsed = parse_message(mail("Subject: x", b"a\x81b\x8dc\n", charset="utf-8"))
    assert parsed.text == "a\ufffdb\ufffdc"


def test_a_codec_that_is_not_a_text_encoding_is_treated_as_unknown() -> None:
    parsed = parse_message(mail("Subject: x", b"hallo\n", charset="zlib"))
    assert parsed.text == "hallo"
    parsed = parse_message(mail("Subject: x", b"hallo \\ud800\n", charset="unicode-escape"))
    assert parsed.text == "hallo \\ud800"


def test_nul_characters_never_reach_the_record() -> None:
    parsed = parse_message(mail("Subject: a\x00b", b"x\x00y\n"))
    assert "\x00" not in parsed.text and "\x00" not in parsed.subject
    json.dumps(parsed_to_dict(parsed))


def test_html_only_message_is_converted_and_flagged() -> None:
    body = "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body><p>De brug is dicht.</p></body></html>"
    raw = mail("Subject: x\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8", body)
    parsed = parse_message(raw)
    assert parsed.text == "De brug is dicht."
    assert parsed.text_from_html


def test_plain_text_wins_over_html_in_an_alternative() -> None:
    body = '--a\nContent-Type: text/plain\n\nplatte tekst\n--a\nContent-Type: text/html\n\n<p>html tekst</p>\n--a--\n'
    parsed = parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="a"', body))
    assert parsed.text == "platte tekst" and not parsed.text_from_html


def test_format_flowed_soft_line_breaks_are_joined() -> None:
    raw = mail("Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8; format=flowed", "een lange \nzin.\n> geciteerd \n> stuk\n")
    assert parse_message(raw).text == "een lange zin.\n> geciteerd stuk"


def test_text_is_cut_at_the_cap_with_a_defect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_TEXT_CHARS", 10)
    parsed = parse_message(mail("Subject: x", "0123456789abcdef\n"))
    assert parsed.text == "0123456789"
    assert any("text cut to 10 of 16 characters" in d for d in parsed.defects)


def test_defects_are_capped_with_a_count_of_the_rest() -> None:
    parts = b"".join(b"--m\nContent-Type: text/plain; charset=x-odd-%d\n\n\xe9\n" % i for i in range(120))
    parsed = parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="m"', parts + b"--m--\n"))
    assert len(parsed.defects) == MAX_DEFECTS
    assert parsed.defects[-1].startswith("and ") and parsed.defects[-1].endswith(" more defects")


# -- attachments ---------------------------------------------------------------------------------------


def test_attachment_size_and_sha256_are_of_the_decoded_payload() -> None:
    payload = bytes(range(256)) * 10
    body = (
        b'--m\nContent-Type: text/plain\n\nzie bijlage\n--m\nContent-Type: application/octet-stream; name="data.bin"\n'
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(payload) + b"--m--\n"
    )
    parsed = parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="m"', body))
    (attachment,) = parsed.attachments
    assert attachment.size == len(payload)
    assert attachment.sha256 == hashlib.sha256(payload).hexdigest()


def test_uuencoded_file_in_the_text_becomes_an_attachment() -> None:
    import binascii

    data = b"Foto van de kapotte lantaarnpaal" * 3
    block = b"begin 644 paal.jpg\n" + b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45)) + b"`\nend\n"
    parsed = parse_message(mail("Subject: x", b"Zie foto.\n\n" + block + b"\nGroet\n"))
    assert parsed.text == "Zie foto.\n\nGroet"
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == ("paal.jpg", "image/jpeg", len(data))
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()


def test_tnef_part_without_a_name_is_named_winmail_dat() -> None:
    body = b"--m\nContent-Type: text/plain\n\ntekst\n--m\nContent-Type: application/vnd.ms-tnef\nContent-Transfer-Encoding: base64\n\neJ8+IgAA\n--m--\n"
    parsed = parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="m"', body))
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("winmail.dat", "application/ms-tnef")]


def test_an_attached_message_is_one_attachment_and_its_text_follows_the_text() -> None:
    inner = b"From: b@example.nl\nSubject: binnen\n\nbinnenste tekst\n"
    body = b'--m\nContent-Type: text/plain\n\nbuitenste tekst\n--m\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="k.eml"\n\n' + inner + b"--m--\n"
    parsed = parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="m"', body))
    assert parsed.text == "buitenste tekst\n\nbinnenste tekst"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("k.eml", "message/rfc822")]


def test_a_file_name_that_breaks_mail_parser_becomes_a_parse_error_with_its_cause() -> None:
    body = b"--m\nContent-Type: text/plain\n\ntekst\n--m\nContent-Type: application/pdf\nContent-Disposition: attachment; filename*=undefined''brief.pdf\n\n%PDF\n--m--\n"
    with pytest.raises(ParseError, match="mail-parser could not read the message") as caught:
        parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="m"', body))
    assert isinstance(caught.value.__cause__, UnicodeError)


def test_one_unreadable_part_becomes_a_defect_not_a_lost_message(monkeypatch: pytest.MonkeyPatch) -> None:
    real = walk_module.payload_bytes

    def fails_on_pdf(part: email.message.Message, defects: list[str], where: str) -> bytes:
        if part.get_content_type() == "application/pdf":
            raise LookupError("kapot")
        return real(part, defects, where)

    monkeypatch.setattr(walk_module, "payload_bytes", fails_on_pdf)
    body = b'--m\nContent-Type: text/plain\n\ntekst\n--m\nContent-Type: application/pdf; name="a.pdf"\n\n%PDF\n--m--\n'
    parsed = parse_message(mail('Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="m"', body))
    assert parsed.text == "tekst"
    assert parsed.attachments == ()
    assert "part 3 (application/pdf) could not be read (LookupError)" in parsed.defects


# -- refusals and the error boundary -------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"\x00\x01\x02\x03", b"PK\x03\x04\x14\x00"])
def test_input_without_a_header_block_is_refused_as_not_a_mail_message(raw: bytes) -> None:
    with pytest.raises(ParseError, match="not a mail message"):
        parse_message(raw)


def test_a_header_block_without_body_parses_to_empty_text() -> None:
    parsed = parse_message(b"From: a@example.nl\r\nSubject: alleen kop")
    assert (parsed.subject, parsed.text, parsed.attachments) == ("alleen kop", "", ())


def test_structure_at_the_limits_is_accepted_and_one_beyond_is_refused() -> None:
    parse_message(nested(MAX_DEPTH))
    with pytest.raises(ParseError, match="MIME structure too deep"):
        parse_message(nested(MAX_DEPTH + 1))
    parse_message(many_parts(MAX_PARTS - 1))
    with pytest.raises(ParseError, match="too many MIME parts"):
        parse_message(many_parts(MAX_PARTS))


def test_a_header_block_full_of_encoded_words_is_refused_before_the_quadratic_decoder() -> None:
    parse_message(mail("Subject: " + "=?utf-8?q?ab?= " * MAX_ENCODED_WORDS))
    with pytest.raises(ParseError, match="too many encoded words in the header block"):
        parse_message(mail("Subject: " + "=?utf-8?q?ab?= " * (MAX_ENCODED_WORDS + 1)))


def test_nested_attached_messages_count_towards_the_depth_limit() -> None:
    raw = b"".join(b"From: a@example.nl\nContent-Type: message/rfc822\n\n" for _ in range(MAX_DEPTH + 5)) + b"Subject: x\n\nx\n"
    with pytest.raises(ParseError, match="MIME structure too deep"):
        parse_message(raw)


def test_an_unexpected_mail_parser_failure_becomes_a_parse_error_with_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(mailparser, "parse_from_bytes", broken)
    with pytest.raises(ParseError, match="mail-parser could not read the message") as caught:
        parse_message(mail("Subject: x"))
    assert isinstance(caught.value.__cause__, IndexError)


def test_mail_parser_crash_on_a_missing_start_boundary_falls_back_to_the_standard_library() -> None:
    raw = (GOLDEN / "forwarded_message_missing_start_boundary.eml").read_bytes()
    try:
        mailparser.parse_from_bytes(raw)
        crashed = False
    except Exception:  # mail-parser 4.8.0: AttributeError in its epilogue recovery
        crashed = True
    parsed = parse_message(raw)
    assert "geen invalidentoilet op de begane grond" in parsed.text
    assert any("read with the standard library" in d for d in parsed.defects) == crashed


def test_an_unexpected_failure_while_reading_the_tree_becomes_a_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise email.errors.HeaderParseError("boom")

    monkeypatch.setattr(parse_module, "walk_tree", broken)
    with pytest.raises(ParseError, match="unexpected HeaderParseError") as caught:
        parse_message(mail("Subject: x"))
    assert isinstance(caught.value.__cause__, email.errors.HeaderParseError)


def test_no_header_values_or_addresses_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    raw = mail("Subject: =?shift_jis?b?geheim-onderwerp?=\nMessage-ID: <[x]@y>").replace(b"jan@example.nl", b"geheim@example.nl")
    parse_message(raw)
    assert "geheim" not in caplog.text


def test_every_golden_record_round_trips_through_json() -> None:
    for path in sorted(GOLDEN.glob("*.eml")):
        try:
            parsed = parse_message(path.read_bytes())
        except ParseError:
            continue
        data = json.loads(json.dumps(parsed_to_dict(parsed)))
        assert parsed_from_dict(data) == parsed, path.name


# -- HTML to text --------------------------------------------------------------------------------------


def test_html_conversion_drops_scripts_styles_head_and_remote_images() -> None:
    html = (
        "<html><head><title>Titel</title><style>.a{}</style></head><body><script>x()</script>"
        '<p>Tekst&nbsp;met <a href="https://t.example/c">link</a></p><img src="https://t.example/p.gif"></body></html>'
    )
    assert html_to_text(html) == "Tekst met link"


def test_html_conversion_is_linear_on_hostile_markup() -> None:
    for hostile in ("</" * 500_000, "<td>x" * 200_000, "<![" * 300_000, "<a" * 500_000, "<!--" * 200_000):
        started = time.perf_counter()
        convert_html(hostile)
        assert time.perf_counter() - started < 5, hostile[:8]


def test_html_beyond_the_cap_is_cut_and_reported() -> None:
    text, truncated = convert_html("<p>" + "x" * 2_100_000 + "</p>")
    assert truncated and len(text) == 2_000_000 - 3


# -- automatic-mail signals ----------------------------------------------------------------------------


def signals(headers: dict[str, object] | None = None, sender: str = "jan@example.nl", return_path: str | None = None,
            content_type: str = "text/plain", subject: str = "Klacht") -> tuple[str, ...]:  # fmt: skip
    return auto_signals(headers or {}, sender, return_path, content_type, subject)


def test_auto_submitted_no_is_not_a_signal() -> None:
    assert signals({"Auto-Submitted": "no"}) == ()
    assert signals({"Auto-Submitted": " No "}) == ()


@pytest.mark.parametrize("value", ["auto-generated", "auto-replied", "auto-notified", "auto-replied; owner-email=x@y"])
def test_any_auto_submitted_value_but_no_is_a_signal(value: str) -> None:
    assert signals({"auto-submitted": value}) == ("auto-submitted",)


@pytest.mark.parametrize(("value", "expected"), [("bulk", True), ("List", True), ("junk", True), ("first-class", False)])
def test_precedence_bulk_list_and_junk_are_signals(value: str, expected: bool) -> None:
    assert (signals({"Precedence": value}) == ("precedence",)) is expected


@pytest.mark.parametrize("name", ["List-Id", "List-Unsubscribe", "list-post", "List-Archive"])
def test_any_list_header_is_a_signal(name: str) -> None:
    assert signals({name: "<x>"}) == ("list",)


def test_empty_return_path_is_a_signal_and_a_missing_one_is_not() -> None:
    assert signals(return_path="") == ("empty-return-path",)
    assert signals(return_path="<>") == ("empty-return-path",)
    assert signals(return_path=None) == ()
    assert signals(return_path="jan@example.nl") == ()


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example.nl", "postmaster@example.nl", "no-reply@mijn.example.nl", "noreply@example.nl",
     "do-not-reply@example.nl", "donotreply@example.nl", "bounce@example.nl", "bounces@example.nl",
     "wijkkrant-bounces+jan=example.nl@lists.example.nl", "no_reply@example.nl", "noreply-dmarc@example.com"],
)  # fmt: skip
def test_robot_senders_are_recognised(sender: str) -> None:
    assert signals(sender=sender) == ("robot-sender",)
    assert auto_signals({}, Address(address=sender.lower()), None, "text/plain", "x") == ("robot-sender",)


@pytest.mark.parametrize("sender", ["jan@example.nl", "bouncer@example.nl", "reply@example.nl", "p.noreen@example.nl", "", "noreplyteam@x.nl"])
def test_people_are_not_robot_senders(sender: str) -> None:
    assert signals(sender=sender) == ()


def test_multipart_report_is_a_signal() -> None:
    assert signals(content_type="multipart/report") == ("report",)
    assert signals(content_type="multipart/mixed") == ()


@pytest.mark.parametrize(("value", "expected"), [("All", True), ("OOF", True), ("DR, AutoReply", True), ("DR, NDR, RN, NRN", False)])
def test_auto_response_suppress_all_oof_and_autoreply_are_signals(value: str, expected: bool) -> None:
    assert (signals({"X-Auto-Response-Suppress": value}) == ("auto-response-suppress",)) is expected


@pytest.mark.parametrize(
    "subject",
    ["Automatisch antwoord: Klacht", "Afwezig: tot 3 maart", "Afwezig", "Out of Office: re: klacht", "Automatic reply: x",
     "Autoreply: x", "Auto-Reply: x", "Niet aanwezig", "  OUT OF OFFICE AutoReply: x"],
)  # fmt: skip
def test_auto_reply_subjects_in_dutch_and_english_are_signals(subject: str) -> None:
    assert signals(subject=subject) == ("auto-reply-subject",)


@pytest.mark.parametrize("subject", ["RE: Automatisch antwoord: Klacht", "Afwezigheid van straatverlichting", "Klacht", ""])
def test_subjects_that_only_mention_absence_are_not_signals(subject: str) -> None:
    assert signals(subject=subject) == ()


def test_x_loop_and_our_own_loop_header_are_signals() -> None:
    assert signals({"X-Loop": "klachten@gemeente-veenstad.nl"}) == ("loop",)
    assert signals({"X-Klachtwacht-Loop": "1"}) == ("loop",)


def test_signals_are_sorted_unique_and_known() -> None:
    headers = {"Auto-Submitted": ["auto-replied", "auto-generated"], "Precedence": "bulk", "List-Id": "x", "X-Loop": "y",
               "X-Auto-Response-Suppress": "All"}  # fmt: skip
    found = auto_signals(headers, "MAILER-DAEMON@x.nl", "", "multipart/report", "Automatisch antwoord: x")
    assert found == tuple(sorted(AUTO_SIGNALS))


def test_headers_may_be_a_mapping_pairs_or_a_message() -> None:
    message = email.message_from_string("Auto-Submitted: auto-replied\nList-Id: <a>\n\nx")
    expected = ("auto-submitted", "list")
    assert auto_signals(message, None, None, None, None) == expected
    assert auto_signals([("AUTO-SUBMITTED", "auto-replied"), ("list-id", "<a>")], None, None, None, None) == expected
    assert auto_signals({"Auto-Submitted": [b"auto-replied"], "List-Id": None}, None, None, None, None) == expected
