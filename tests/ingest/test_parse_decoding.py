"""Decoding: per part with the declared charset, per line and per run of bytes where it fails, never a whole part lost."""

from __future__ import annotations

import pytest

from ingest.charsets import codec_for, decode_bytes, decode_iso2022jp
from ingest.encodedwords import decode_header_bytes, decode_words
from ingest.scripts import guess_codec, looks_western


def test_one_stray_byte_in_a_utf8_part_costs_only_that_byte() -> None:
    defects: list[str] = []
    text = decode_bytes("één, café\n".encode() + b"en caf\xe9\n" + "nog één regel\n".encode(), "utf-8", defects, "part 2")
    assert text == "één, café\nen café\nnog één regel\n"
    assert defects == ["part 2: bytes are not valid utf-8; read 2 lines as UTF-8, 1 line as UTF-8 with Windows-1252 for stray bytes"]


def test_a_line_in_the_charset_the_message_declares_elsewhere_is_read_in_it() -> None:
    assert decode_bytes("Ελλάδα\n".encode("iso-8859-7"), None, None, "x", hint="iso-8859-7") == "Ελλάδα\n"


@pytest.mark.parametrize(
    "label, text, encoding",
    [
        ("gb2312", "朱镕基", "gbk"),
        ("GBK", "朱镕基", "gb18030"),
        ("big5", "我哋嘅", "big5hkscs"),
        ("shift_jis", "①髙", "cp932"),
        ("iso-8859-1", "€ “x”", "cp1252"),
        ("iso-8859-2", "„działa”", "cp1250"),
        ("iso-8859-5", "Жалоба „x“", "cp1251"),
        ("ks_c_5601-1987", "불만", "cp949"),
    ],
)
def test_mail_charset_labels_are_read_with_the_superset_codec_mailers_write(label: str, text: str, encoding: str) -> None:
    defects: list[str] = []
    assert decode_bytes(text.encode(encoding), label, defects, "x") == text
    assert defects == []


def test_iso_8859_x_without_c1_bytes_stays_iso_8859_x() -> None:
    assert codec_for("iso-8859-1", "café".encode("latin-1")) == "iso8859-1"
    assert codec_for("iso-8859-1", "€".encode("cp1252")) == "cp1252"


def test_iso_2022_jp_with_microsoft_extensions_and_half_width_katakana() -> None:
    assert decode_iso2022jp(b"\x1b$B4A;z\x1b(B") == "漢字"
    assert decode_iso2022jp(b"\x1b$B-!-\"\x1b(B \x1b(I12\x1b(B") == "①② ｱｲ"


@pytest.mark.parametrize(
    "text, encoding",
    [("Жалоба на вывоз мусора", "koi8-r"), ("Жалоба на вывоз мусора", "cp1251"), ("关于垃圾收集的投诉", "gbk"), ("ゴミ収集の苦情です", "shift_jis"), ("쓰레기 수거에 대한 불만", "cp949")],
)
def test_a_non_western_line_without_any_charset_is_read_in_the_script_it_decodes_to(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding), None, None, "Subject header") == text


def test_western_text_without_a_charset_is_never_guessed_as_something_else() -> None:
    for text in ("één klacht over café", "Beschwerde über Müll", "ééé", "Çöp toplama hakkında"):
        assert looks_western(text.encode("cp1252", "replace")) or guess_codec(text.encode("cp1252", "replace")) is None
    assert decode_bytes("één klacht over café".encode("cp1252"), None, None, "x") == "één klacht over café"


def test_an_encoded_word_holding_raw_8bit_bytes_is_decoded_once_in_its_own_charset() -> None:
    assert decode_header_bytes(b"=?iso-8859-1?q?Klacht_caf\xe9?=", None, "Subject") == "Klacht café"
    assert decode_header_bytes(b"=?utf-8?q?caf\xc3\xa9?= en =?utf-8?b?w6nDqW4=?=", None, "Subject") == "café en één"


def test_encoded_words_split_inside_a_character_are_joined_before_decoding() -> None:
    assert decode_words("=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=", None, "x") == "éé"
    assert decode_words("=?utf-8?q?=C3?= =?utf-8?q?=A9n?=", None, "x") == "én"


def test_a_utf16_part_is_never_split_into_lines_by_its_bytes() -> None:
    defects: list[str] = []
    assert decode_bytes("één\nklacht".encode("utf-16"), "utf-16", defects, "x") == "één\nklacht"
    assert decode_bytes(b"\xff\xfeh\x00\x00\xd8", "utf-16", defects, "x") == "h\ufffd"
    assert defects == ["x: bytes are not valid utf-16; read with replacement characters"]


def test_seven_bit_iso_2022_text_is_decoded_not_taken_for_ascii() -> None:
    assert decode_bytes(b"\x1b$B4A;z\x1b(B", "iso-2022-jp", None, "x") == "漢字"
