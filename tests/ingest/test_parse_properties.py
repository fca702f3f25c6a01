"""Whatever the bytes, :func:`parse_message` returns a sound record or raises ParseError.

Arbitrary bytes and damaged real messages (byte flips, truncation, repeated
header lines, broken MIME boundaries, spliced garbage) go through the
parser; nothing but :class:`ParseError` may come out, and what comes back
must be storable and the same on every run.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.parse import MAX_DEFECTS, MAX_TEXT_CHARS, parse_message
from ingest.records import AUTO_SIGNALS, ParsedMessage, parsed_from_dict, parsed_to_dict
from klachtwacht.errors import ParseError

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CORPUS = [p.read_bytes() for p in sorted(GOLDEN.glob("*.eml")) if p.stat().st_size < 20_000]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)', re.IGNORECASE)


def parse_or_refuse(raw: bytes) -> ParsedMessage | None:
    """Parse ``raw``; None when refused with ParseError. Any other exception fails the test."""
    try:
        parsed = parse_message(raw)
    except ParseError as exc:
        assert str(exc)
        return None
    assert_sound(parsed)
    assert parse_message(raw) == parsed  # deterministic
    return parsed


def assert_sound(parsed: ParsedMessage) -> None:
    """The record is well-typed, within its caps, and survives a JSON round trip."""
    assert isinstance(parsed, ParsedMessage)
    assert len(parsed.text) <= MAX_TEXT_CHARS
    assert len(parsed.defects) <= MAX_DEFECTS
    assert list(parsed.auto_signals) == sorted(set(parsed.auto_signals))
    assert set(parsed.auto_signals) <= set(AUTO_SIGNALS)
    assert parsed.date is None or (isinstance(parsed.date, datetime) and parsed.date.tzinfo is not None)
    for attachment in parsed.attachments:
        assert attachment.size >= 0 and re.fullmatch(r"[0-9a-f]{64}", attachment.sha256)
    data = parsed_to_dict(parsed)
    encoded = json.dumps(data, ensure_ascii=False)
    encoded.encode("utf-8")  # no lone surrogates anywhere
    assert "\\u0000" not in json.dumps(data)  # PostgreSQL JSON cannot hold NUL
    assert parsed_from_dict(json.loads(encoded)) == parsed


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_a_record_or_a_parse_error(raw: bytes) -> None:
    parse_or_refuse(raw)


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_behind_a_header_line_give_a_record_or_a_parse_error(tail: bytes) -> None:
    parse_or_refuse(b"From: a@example.nl\r\nContent-Type: multipart/mixed; boundary=x\r\n" + tail)


@st.composite
def damaged_messages(draw: st.DrawFn) -> bytes:
    """A golden message with a few kinds of real-world damage applied."""
    raw = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "truncate", "duplicate_header", "boundary", "splice", "line_endings"]))
        if not raw:
            break
        if kind == "flip":
            for _ in range(draw(st.integers(min_value=1, max_value=8))):
                index = draw(st.integers(min_value=0, max_value=len(raw) - 1))
                raw[index] ^= draw(st.integers(min_value=1, max_value=255))
        elif kind == "truncate":
            del raw[draw(st.integers(min_value=0, max_value=len(raw))) :]
        elif kind == "duplicate_header":
            lines = bytes(raw).split(b"\n")
            index = draw(st.integers(min_value=0, max_value=max(0, min(len(lines) - 1, 20))))
            lines[index:index] = [lines[index]] * draw(st.integers(min_value=1, max_value=50))
            raw = bytearray(b"\n".join(lines))
        elif kind == "boundary":
            raw = bytearray(damage_boundary(bytes(raw), draw))
        elif kind == "splice":
            index = draw(st.integers(min_value=0, max_value=len(raw)))
            raw[index:index] = draw(st.binary(min_size=1, max_size=200))
        else:
            raw = bytearray(bytes(raw).replace(b"\r\n", b"\n") if b"\r\n" in raw else bytes(raw).replace(b"\n", b"\r\n"))
    return bytes(raw)


def damage_boundary(raw: bytes, draw: st.DrawFn) -> bytes:
    """Cut, rename, repeat or nest a MIME boundary of ``raw``."""
    boundaries = _BOUNDARY.findall(raw)
    if not boundaries:
        return raw
    boundary = draw(st.sampled_from(boundaries))
    how = draw(st.sampled_from(["drop_close", "rename_one", "repeat_delimiter", "open_unclosed", "truncate_value"]))
    if how == "drop_close":
        return raw.replace(b"--" + boundary + b"--", b"")
    if how == "rename_one":
        return raw.replace(b"--" + boundary, b"--" + boundary[::-1], 1)
    if how == "repeat_delimiter":
        return raw.replace(b"--" + boundary + b"\r\n", (b"--" + boundary + b"\r\n") * 30, 1)
    if how == "open_unclosed":
        index = raw.find(b"--" + boundary)
        nest = b'--%s\r\nContent-Type: multipart/mixed; boundary="%s"\r\n\r\n' % (boundary, boundary)
        return raw[:index] + nest * 5 + raw[index:] if index >= 0 else raw
    return raw.replace(boundary, boundary[: max(1, len(boundary) // 2)], 1)


@FUZZ
@given(damaged_messages())
def test_damaged_real_messages_give_a_record_or_a_parse_error(raw: bytes) -> None:
    parse_or_refuse(raw)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(CORPUS))
def test_every_undamaged_golden_message_is_sound(raw: bytes) -> None:
    parse_or_refuse(raw)


_LABELS = st.sampled_from([None, "utf-8", "us-ascii", "iso-8859-1", "iso-8859-2", "windows-1252", "gb2312", "big5", "shift_jis", "iso-2022-jp", "koi8-r", "x-unknown", "zlib"])


@FUZZ
@given(st.binary(max_size=2048), _LABELS, _LABELS)
def test_any_bytes_in_any_charset_decode_to_storable_text_keeping_every_ascii_line(data: bytes, label: str | None, hint: str | None) -> None:
    from ingest.charsets import decode_bytes

    text = decode_bytes(data, label, [], "part", hint)
    text.encode("utf-8")
    if label not in ("iso-2022-jp",):  # escape sequences are not text there
        for line in data.split(b"\n"):
            if line.isascii() and b"\x1b" not in line and line.strip():
                assert line.decode("ascii") in text


@FUZZ
@given(st.text(max_size=300))
def test_valid_utf8_declared_as_utf8_or_undeclared_reads_back_exactly(text: str) -> None:
    from ingest.charsets import decode_bytes

    data = text.encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return
    assert decode_bytes(data, "utf-8", None, "x") == text
    assert decode_bytes(data, None, None, "x") == text
