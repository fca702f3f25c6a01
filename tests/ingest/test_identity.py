"""Which message is this? (ingest/identity.py)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from ingest.identity import MAX_HEADER_SCAN, header_message_id, identify

KEY = re.compile(r"c1:[0-9a-f]{64}")
HEX = re.compile(r"[0-9a-f]{64}")

HEADERS = (
    b"Received: from mx1.example.nl by imap.gemeente.example\r\n"
    b"From: Burger <burger@example.nl>\r\n"
    b"To: wethouder@gemeente.example\r\n"
    b"Subject: Klacht over het afval\r\n"
)
BODY = b"Geachte wethouder,\r\n\r\nDe container is weer niet geleegd.\r\n"


def mail(*headers: bytes, body: bytes = BODY) -> bytes:
    return HEADERS + b"".join(headers) + b"\r\n" + body


def test_the_message_id_of_the_header_block_is_read() -> None:
    raw = mail(b"Message-ID: <abc.123@mail.example.nl>\r\n")
    assert header_message_id(raw) == "<abc.123@mail.example.nl>"
    assert identify(raw).message_id == "<abc.123@mail.example.nl>"


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


def test_message_id_text_in_the_body_is_ignored() -> None:
    raw = mail(body=b"Zie mijn vorige mail.\r\nMessage-ID: <in-body@mail.example.nl>\r\n")
    assert header_message_id(raw) is None
    assert identify(raw).message_id is None


def test_a_header_that_only_ends_in_message_id_is_not_the_message_id() -> None:
    raw = mail(b"X-Original-Message-ID: <original@mail.example.nl>\r\nResent-Message-ID: <resent@mail.example.nl>\r\n")
    assert header_message_id(raw) is None


@pytest.mark.parametrize("value", [b"", b"   ", b"geen-id-hier"])
def test_an_empty_or_meaningless_message_id_counts_as_absent(value: bytes) -> None:
    raw = mail(b"Message-ID: " + value + b"\r\n")
    assert header_message_id(raw) is None


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
    identity = identify(raw)
    assert KEY.fullmatch(identity.key) and HEX.fullmatch(identity.fingerprint)
    assert identity == identify(raw)
    if identity.message_id is not None:
        assert "\n" not in identity.message_id and len(identity.message_id) <= 998
        assert identity.message_id == identity.message_id.strip()


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
    identity = identify(raw)
    assert KEY.fullmatch(identity.key) and HEX.fullmatch(identity.fingerprint)


def test_a_mail_with_an_empty_header_block_has_no_message_id() -> None:
    assert header_message_id(b"\n\nMessage-ID: <in-body@example.nl>\n") is None


# -- the content key: what servers change between two copies of one mail ---------------------------------------------

ORIGINAL = (
    b"From: Ria Hendriks <ria@example.nl>\r\n"
    b"To: Wethouder De Vries <wethouder@gemeente.example>, raad@gemeente.example\r\n"
    b"Cc: griffie@gemeente.example\r\n"
    b"Subject: Klacht over de container in de Dorpsstraat\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n"
    b"Message-ID: <form-1@web.example.nl>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Geachte wethouder,\r\n\r\nDe container is w\xc3\xa9\xc3\xa9r niet geleegd.\r\n\r\nRia\r\n"
)
TRANSPORT = (
    b"Return-Path: <ria@example.nl>\r\n"
    b"Delivered-To: raad@gemeente.example\r\n"
    b"Received: from mx2.gemeente.example (mx2 [10.0.0.2])\r\n\tby imap.gemeente.example with LMTP id abc; Mon, 2 Mar 2026 10:00:02 +0100\r\n"
    b"Received: from mail.example.nl by mx2.gemeente.example; Mon, 2 Mar 2026 10:00:01 +0100\r\n"
    b"X-Spam-Status: No, score=-1.2\r\n"
    b"X-MS-Exchange-Organization-SCL: 1\r\n"
    b"Authentication-Results: mx2.gemeente.example; dkim=pass header.d=example.nl\r\n"
    b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=gemeente.example; s=arc; b=Zm9v\r\n"
    b"Received-SPF: pass (mx2: domain of example.nl designates 192.0.2.1 as permitted sender)\r\n"
    b"X-Original-To: raad@gemeente.example\r\n"
)


def _key(raw: bytes) -> str:
    return identify(raw).key


def _replace_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = [line if not line.lower().startswith(name.lower() + b":") else name + b": " + value for line in head.split(b"\r\n")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_the_key_is_versioned_and_differs_from_the_fingerprint() -> None:
    identity = identify(ORIGINAL)
    assert KEY.fullmatch(identity.key) and HEX.fullmatch(identity.fingerprint)
    assert identity.key[3:] != identity.fingerprint


def test_transport_headers_added_per_mailbox_leave_the_key_alone() -> None:
    assert _key(TRANSPORT + ORIGINAL) == _key(ORIGINAL)
    other = TRANSPORT.replace(b"raad@", b"wethouder@").replace(b"mx2", b"mx1").replace(b"-1.2", b"0.4")
    assert _key(other + ORIGINAL) == _key(TRANSPORT + ORIGINAL)


def test_a_bcc_header_in_the_copy_for_a_bcc_recipient_leaves_the_key_alone() -> None:
    assert _key(ORIGINAL.replace(b"Subject:", b"Bcc: secretariaat@gemeente.example\r\nSubject:", 1)) == _key(ORIGINAL)


def test_line_endings_do_not_change_the_key() -> None:
    assert _key(ORIGINAL.replace(b"\r\n", b"\n")) == _key(ORIGINAL)
    assert _key(ORIGINAL.replace(b"\r\n", b"\r")) == _key(ORIGINAL)


def test_trailing_whitespace_and_trailing_blank_lines_do_not_change_the_key() -> None:
    spaced = ORIGINAL.replace(b"wethouder,\r\n", b"wethouder,  \t\r\n").replace(b"Ria\r\n", b"Ria \r\n\r\n\r\n")
    assert _key(spaced) == _key(ORIGINAL)


def test_headers_folded_otherwise_or_named_in_other_case_give_the_same_key() -> None:
    refolded = ORIGINAL.replace(b"Subject: Klacht over de container", b"subject: Klacht over\r\n de container").replace(
        b"To: Wethouder De Vries <wethouder@gemeente.example>, raad@", b"TO: Wethouder De Vries <wethouder@gemeente.example>,\r\n\traad@"
    )
    assert refolded != ORIGINAL
    assert _key(refolded) == _key(ORIGINAL)


def test_a_subject_re_encoded_as_encoded_words_gives_the_same_key() -> None:
    raw = ORIGINAL.replace(b"Subject: Klacht over de container in de Dorpsstraat", b"Subject: Caf\xc3\xa9 overlast")
    for encoded in (b"=?utf-8?q?Caf=C3=A9_overlast?=", b"=?UTF-8?B?Q2Fmw6kgb3Zlcmxhc3Q=?=", b"=?iso-8859-1?q?Caf=E9?= =?iso-8859-1?q?_overlast?="):
        assert _key(_replace_header(raw, b"Subject", encoded)) == _key(raw), encoded


def test_a_date_rendered_in_another_zone_for_the_same_instant_gives_the_same_key() -> None:
    assert _key(_replace_header(ORIGINAL, b"Date", b"Mon, 2 Mar 2026 09:00:00 +0000 (UTC)")) == _key(ORIGINAL)
    assert _key(_replace_header(ORIGINAL, b"Date", b"Mon, 2 Mar 2026 09:00:01 +0000")) != _key(ORIGINAL)


def test_display_names_quoting_and_recipient_order_do_not_change_the_key() -> None:
    reordered = _replace_header(ORIGINAL, b"To", b'raad@gemeente.example, "De Vries, wethouder" <WETHOUDER@gemeente.example>')
    named = _replace_header(reordered, b"From", b'"Hendriks, Ria" <Ria@Example.NL>')
    assert _key(named) == _key(ORIGINAL)


def test_another_recipient_gives_another_key() -> None:
    assert _key(_replace_header(ORIGINAL, b"Cc", b"burgemeester@gemeente.example")) != _key(ORIGINAL)


BODY_TEXT = "Geachte wethouder,\n\nDe container is wéér niet geleegd. Dit is al de derde keer deze maand.\n\nRia\n"
HEADS = (
    "From: Ria Hendriks <ria@example.nl>\r\nTo: wethouder@gemeente.example\r\nSubject: Klacht\r\n"
    "Date: Mon, 02 Mar 2026 10:00:00 +0100\r\nMessage-ID: <mime-1@example.nl>\r\nMIME-Version: 1.0\r\n"
)


def _encoded(encoding: str, charset: str = "utf-8") -> bytes:
    data = BODY_TEXT.replace("\n", "\r\n").encode(charset)
    if encoding == "base64":
        import base64

        payload = base64.encodebytes(data).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        import quopri

        payload = quopri.encodestring(BODY_TEXT.encode(charset)).replace(b"\n", b"\r\n")
    else:
        payload = data
    head = HEADS + f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
    return head.encode() + payload


def test_a_body_re_encoded_in_transit_gives_the_same_key() -> None:
    """An 8BITMIME downgrade turns 8bit into quoted-printable; a server may serve base64 instead."""
    keys = {_key(_encoded(encoding)) for encoding in ("8bit", "quoted-printable", "base64")}
    assert len(keys) == 1


def test_a_body_transcoded_to_another_charset_gives_the_same_key() -> None:
    assert _key(_encoded("quoted-printable", "iso-8859-1")) == _key(_encoded("8bit", "utf-8"))


def _multipart(boundary: str, attachment: bytes = b"%PDF-1.4 brief", encoding: str = "base64") -> bytes:
    import base64

    data = base64.encodebytes(attachment).decode() if encoding == "base64" else attachment.decode("latin-1")
    return (
        HEADS + f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"This is a multi-part message in MIME format.\r\n--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{BODY_TEXT}\r\n--{boundary}\r\n"
        f'Content-Type: application/pdf; name="brief.pdf"\r\nContent-Disposition: attachment; filename="brief.pdf"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n{data}\r\n--{boundary}--\r\n"
    ).encode("utf-8")


def test_other_mime_boundaries_and_attachment_encodings_give_the_same_key() -> None:
    assert _key(_multipart("----=_Part_1")) == _key(_multipart("_000_AM0PR01MB1234_"))
    assert _key(_multipart("b1", encoding="8bit")) == _key(_multipart("b1"))


def test_another_attachment_gives_another_key_and_fingerprint() -> None:
    one, two = identify(_multipart("b1")), identify(_multipart("b1", attachment=b"%PDF-1.4 andere brief"))
    assert one.key != two.key and one.fingerprint != two.fingerprint


def test_a_web_form_that_reuses_its_message_id_gives_each_complaint_its_own_key_and_fingerprint() -> None:
    first = ORIGINAL
    second = ORIGINAL.replace(b"De container is w\xc3\xa9\xc3\xa9r niet geleegd.", b"De lantaarnpaal is al weken kapot.")
    assert header_message_id(first) == header_message_id(second)
    assert identify(first).key != identify(second).key
    assert identify(first).fingerprint != identify(second).fingerprint


def test_the_same_text_at_another_time_under_one_message_id_is_another_mail() -> None:
    later = _replace_header(ORIGINAL, b"Date", b"Mon, 02 Mar 2026 10:05:00 +0100")
    assert identify(later).key != identify(ORIGINAL).key
    assert identify(later).fingerprint != identify(ORIGINAL).fingerprint


def test_another_message_id_with_the_same_content_is_another_key() -> None:
    assert _key(_replace_header(ORIGINAL, b"Message-ID", b"<form-2@web.example.nl>")) != _key(ORIGINAL)


def test_a_subject_tagged_by_a_spam_filter_keeps_the_fingerprint() -> None:
    tagged = _replace_header(ORIGINAL, b"Subject", b"[SPAM?] Klacht over de container in de Dorpsstraat")
    assert identify(tagged).key != identify(ORIGINAL).key
    assert identify(tagged).fingerprint == identify(ORIGINAL).fingerprint


def test_an_html_alternative_added_by_a_server_keeps_the_fingerprint() -> None:
    plain = _encoded("8bit")
    head = HEADS + 'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
    text = "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + BODY_TEXT.replace("\n", "\r\n")
    markup = '--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p {margin:0}</style></head><body><p>Geachte wethouder,</p></body></html>\r\n--alt--\r\n'
    both = (head + text + "\r\n" + markup).encode("utf-8")
    assert identify(both).key != identify(plain).key
    assert identify(both).fingerprint == identify(plain).fingerprint


def test_html_re_rendered_with_a_style_block_and_other_markup_keeps_the_fingerprint() -> None:
    def html_mail(markup: str) -> bytes:
        return (HEADS + "Content-Type: text/html; charset=utf-8\r\n\r\n" + markup).encode("utf-8")

    one = html_mail("<p>De container is w&eacute;&eacute;r niet geleegd.</p>")
    two = html_mail(
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style></head>'
        '<body dir="ltr"><div style="font-family:Calibri">De container is\r\nwéér niet geleegd.</div></body></html>'
    )
    assert identify(one).fingerprint == identify(two).fingerprint
    three = html_mail("<p>De lantaarnpaal is kapot.</p>")
    assert identify(three).fingerprint != identify(one).fingerprint


def test_a_mail_without_a_message_id_is_known_by_its_content() -> None:
    bare = ORIGINAL.replace(b"Message-ID: <form-1@web.example.nl>\r\n", b"")
    assert identify(bare).message_id is None
    assert _key(TRANSPORT + bare) == _key(bare)
    assert _key(bare.replace(b"geleegd", b"opgehaald")) != _key(bare)


def test_an_attached_mail_counts_with_its_own_headers() -> None:
    def forward(inner_subject: str) -> bytes:
        inner = f"From: a@example.nl\r\nSubject: {inner_subject}\r\n\r\nTekst\r\n"
        return (
            HEADS + 'Content-Type: multipart/mixed; boundary="f"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nZie bijlage\r\n'
            f"--f\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--f--\r\n"
        ).encode()

    assert _key(forward("Eerste klacht")) != _key(forward("Tweede klacht"))
    assert _key(forward("Eerste klacht")) == _key(forward("Eerste klacht").replace(b"\r\n", b"\n"))


def test_deeply_nested_mail_still_gets_a_key() -> None:
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000))
    identity = identify(b"From: a@example.nl\r\n" + head + b"Content-Type: text/plain\r\n\r\nhallo\r\n")
    assert KEY.fullmatch(identity.key)


def test_an_empty_recipient_group_added_by_a_server_leaves_the_key_alone() -> None:
    """Sendmail and others add ``To: undisclosed-recipients:;`` to mail sent only to Bcc recipients."""
    bcc_only = ORIGINAL.replace(b"To: Wethouder De Vries <wethouder@gemeente.example>, raad@gemeente.example\r\n", b"")
    assert _key(bcc_only.replace(b"Cc:", b"To: undisclosed-recipients:;\r\nCc:", 1)) == _key(bcc_only)


def test_a_leading_mbox_from_line_leaves_the_key_alone() -> None:
    assert _key(b"From ria@example.nl Mon Mar  2 10:00:00 2026\r\n" + ORIGINAL) == _key(ORIGINAL)


def test_content_type_parameters_quoted_or_ordered_otherwise_leave_the_key_alone() -> None:
    requoted = ORIGINAL.replace(b"Content-Type: text/plain; charset=utf-8", b'Content-Type: TEXT/PLAIN;\r\n\tformat=fixed; charset="UTF-8"')
    assert _key(requoted) == _key(ORIGINAL)


def test_a_plain_text_mail_wrapped_in_a_multipart_by_a_server_keeps_its_key() -> None:
    """Exchange serves a stored single-part mail again as multipart/mixed with one text part."""
    head, body = ORIGINAL.split(b"\r\n\r\n", 1)
    head = head.replace(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit", b'Content-Type: multipart/mixed; boundary="_000_X_"')
    wrapped = head + b"\r\n\r\n--_000_X_\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n--_000_X_--\r\n"
    assert _key(wrapped) == _key(ORIGINAL)


def test_a_copy_redirected_by_a_mailbox_rule_with_resent_headers_keeps_the_key() -> None:
    redirected = (
        b"Resent-From: secretariaat@gemeente.example\r\nResent-To: raad@gemeente.example\r\n"
        b"Resent-Date: Tue, 03 Mar 2026 08:00:00 +0100\r\nResent-Message-ID: <redirect-1@gemeente.example>\r\n"
    ) + ORIGINAL
    assert _key(redirected) == _key(ORIGINAL)


def test_html_turned_into_plain_text_by_a_server_keeps_the_fingerprint() -> None:
    """A server that serves an HTML-only mail with a generated plain alternative: punctuation and layout differ."""
    markup = (HEADS + "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Geachte wethouder,</p><p>De container is <b>w&eacute;&eacute;r</b> niet geleegd!</p>").encode()
    head = HEADS + 'Content-Type: multipart/alternative; boundary="g"\r\n\r\n'
    generated = (
        head + "--g\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGeachte wethouder,\r\n\r\nDe container is *wéér* niet geleegd!\r\n"
        "--g\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Geachte wethouder,</p><p>De container is <b>w&eacute;&eacute;r</b> niet geleegd!</p>\r\n--g--\r\n"
    ).encode()
    assert identify(generated).fingerprint == identify(markup).fingerprint


GOLDEN = sorted((Path(__file__).resolve().parents[1] / "golden").glob("**/*.eml"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_every_golden_mail_keeps_its_key_as_another_server_delivers_it(path: Path) -> None:
    """Transport headers in front, LF or CRLF, blank lines at the end: the golden corpus, malformed mail included."""
    raw = path.read_bytes()
    lf = raw.replace(b"\r\n", b"\n")
    copies = [
        b"Received: from mx2 by imap; Mon, 2 Mar 2026 10:00:00 +0100\r\nDelivered-To: raad@gemeente.example\r\n" + lf,
        b"X-Spam-Score: 0.1\r\n" + lf.replace(b"\n", b"\r\n"),
        raw.rstrip() + b"\r\n\r\n",
    ]
    assert {identify(copy).key for copy in copies} == {identify(raw).key}


def test_a_multipart_without_a_boundary_is_read_as_text_for_its_key() -> None:
    raw = b"From: a@example.nl\r\nContent-Type: multipart/mixed\r\n\r\n--zomaar\r\nContent-Type: text/plain\r\n\r\nTekst\r\n--zomaar--\r\n"
    assert _key(raw.replace(b"\r\n", b"\n") + b"\n") == _key(raw)
