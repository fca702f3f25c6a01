"""The HTML body and the inline images read back from the raw message, as ingest reads it."""

from __future__ import annotations

import time
from pathlib import Path

from klachtwacht.intake import compress, decompress
from klachtwacht.web.mailparts import MAX_INLINE_BYTES, html_of, inline_parts

HOSTILE = Path(__file__).with_name("hostile")


def message(body: str, ctype: str = "text/html; charset=utf-8") -> bytes:
    return ("From: a@b.example\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: %s\r\n\r\n%s\r\n" % (ctype, body)).encode()


def related(*parts: tuple[str, dict[str, str], str]) -> bytes:
    body = "".join(
        "--B\r\nContent-Type: %s\r\n%s\r\n%s\r\n" % (ctype, "".join("%s: %s\r\n" % kv for kv in headers.items()), payload) for ctype, headers, payload in parts
    )
    return message(body + "--B--", 'multipart/related; boundary="B"')


def test_the_html_of_a_multipart_alternative_is_its_html_part_even_beside_plain_text() -> None:
    html = html_of((HOSTILE / "35-alternative.eml").read_bytes())
    assert html is not None and "<script>" in html and "tracker.example/alt.png" in html


def test_a_plain_text_message_has_no_html() -> None:
    assert html_of((HOSTILE / "36-plain-text.eml").read_bytes()) is None


def test_the_html_of_an_attached_message_is_not_the_messages_own() -> None:
    inner = "From: x@y.example\r\nContent-Type: text/html\r\n\r\n<p>doorgestuurd</p>"
    raw = message(
        "--M\r\nContent-Type: text/plain\r\n\r\neigen tekst\r\n--M\r\nContent-Type: message/rfc822\r\n\r\n%s\r\n--M--" % inner, 'multipart/mixed; boundary="M"'
    )
    assert html_of(raw) is None


def test_the_stored_raw_blob_round_trips_through_zstandard_to_the_same_html() -> None:
    raw = (HOSTILE / "34-cid-image.eml").read_bytes()
    assert html_of(decompress(compress(raw))) == html_of(raw)


def test_inline_images_are_keyed_by_content_id_without_brackets_and_svg_is_never_one() -> None:
    parts = inline_parts((HOSTILE / "34-cid-image.eml").read_bytes())
    assert list(parts) == ["logo@gemeente.example"]
    ctype, data = parts["logo@gemeente.example"]
    assert ctype == "image/png" and data.startswith(b"\x89PNG")


def test_only_raster_images_with_a_content_id_are_inline_parts() -> None:
    raw = related(
        ("text/html", {}, '<img src="cid:a">'),
        ("image/jpg", {"Content-ID": "< a >", "Content-Transfer-Encoding": "base64"}, "/9j/4AAQ"),
        ("text/html", {"Content-ID": "<b>"}, "<script>alert(1)</script>"),
        ("application/octet-stream", {"Content-ID": "<c>"}, "MZ"),
        ("image/png", {}, "no content id"),
        ("image/svg+xml", {"Content-ID": "<d>"}, "<svg onload=alert(1)/>"),
        ("image/gif", {"Content-ID": "<a>"}, "second part with the same id"),
    )
    parts = inline_parts(raw)
    assert list(parts) == ["a"] and parts["a"][0] == "image/jpeg" and parts["a"][1].startswith(b"\xff\xd8")


def test_an_image_above_the_size_limit_is_not_served() -> None:
    big = "A" * (MAX_INLINE_BYTES // 3 * 4 + 8)
    raw = related(("image/png", {"Content-ID": "<big>", "Content-Transfer-Encoding": "base64"}, big))
    assert inline_parts(raw) == {}


def test_bytes_that_are_no_message_give_no_html_and_no_parts() -> None:
    for junk in (b"", b"\x00\xff" * 100, b"\r\n\r\n"):
        assert html_of(junk) is None
        assert inline_parts(junk) == {}


def test_a_twenty_megabyte_html_body_is_read_back_in_seconds_not_minutes() -> None:
    raw = message("<p>regel</p>\r\n" * 1_500_000)
    assert len(raw) > 20_000_000
    started = time.perf_counter()
    html = html_of(raw)
    assert html is not None and time.perf_counter() - started < 10
