"""Every message in the golden corpus parses to what its ``NAME.json`` says.

The corpus lives in ``tests/golden``: real-world-shaped ``.eml`` files with
the expected parse beside each, plus the messages that ``builders.py`` makes
because they are too big or too pathological to commit.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.ocr import require_ocr

from ingest.parse import parse_message
from ingest.records import AUTO_SIGNALS, ParsedMessage, parsed_to_dict
from klachtwacht.errors import ParseError

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _load_builders() -> Any:
    spec = importlib.util.spec_from_file_location("golden_builders", GOLDEN / "builders.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builders = _load_builders()
EML_FILES = sorted(GOLDEN.glob("*.eml"))


def _expectation(path: Path) -> dict[str, Any]:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def check_expectation(raw: bytes, expected: dict[str, Any]) -> ParsedMessage | None:
    """Parse ``raw`` and assert every key of ``expected``; return the record."""
    if expected["quarantine"] is not None:
        with pytest.raises(ParseError, match=re.escape(expected["quarantine"])):
            parse_message(raw)
        return None
    parsed = parse_message(raw)
    assert parsed.message_id == expected["message_id"]
    assert (parsed.sender.address if parsed.sender else None) == expected["sender"]
    assert parsed.subject == expected["subject"]
    if expected["date"] is None:
        assert parsed.date is None
    else:
        assert parsed.date == datetime.fromisoformat(expected["date"])
        assert parsed.date is not None and parsed.date.tzinfo is not None
    for snippet in expected["text_contains"]:
        assert snippet in parsed.text, snippet
    for snippet in expected["text_not_contains"]:
        assert snippet not in parsed.text, snippet
    assert len(parsed.attachments) == len(expected["attachments"]), parsed.attachments
    for got, want in zip(parsed.attachments, expected["attachments"]):
        assert got.filename == want["filename"]
        assert got.content_type == want["content_type"]
        if "size" in want:
            assert got.size == want["size"]
        assert re.fullmatch(r"[0-9a-f]{64}", got.sha256)
    assert list(parsed.auto_signals) == expected["auto_signals"]
    assert bool(parsed.defects) == expected["defects"], parsed.defects
    if "text_from_html" in expected:
        assert parsed.text_from_html == expected["text_from_html"]
    return parsed


@pytest.mark.parametrize("path", EML_FILES, ids=[p.stem for p in EML_FILES])
def test_golden_message_parses_as_expected(path: Path) -> None:
    check_expectation(path.read_bytes(), _expectation(path))


@pytest.mark.parametrize("name", sorted(builders.BUILT))
def test_built_message_parses_as_expected(name: str) -> None:
    build, expected = builders.BUILT[name]
    check_expectation(build(), expected)


def test_the_corpus_is_large_enough_small_enough_and_complete() -> None:
    assert len(EML_FILES) >= 42
    for path in EML_FILES:
        assert path.with_suffix(".json").exists(), path.name
    assert sum(p.stat().st_size for p in GOLDEN.iterdir() if p.is_file()) < 1_000_000


def test_expectations_name_only_known_auto_signals_in_sorted_order() -> None:
    for path in EML_FILES:
        signals = _expectation(path)["auto_signals"]
        assert signals == sorted(signals) and set(signals) <= set(AUTO_SIGNALS), path.name


def test_a_25_mb_attachment_parses_within_a_few_seconds() -> None:
    raw = builders.build_large_attachment()
    started = time.perf_counter()
    parsed = parse_message(raw)
    elapsed = time.perf_counter() - started
    assert parsed.attachments[0].size == builders.LARGE_ATTACHMENT_SIZE
    assert elapsed < 15, elapsed


def test_the_huge_text_is_cut_to_the_cap_with_a_defect() -> None:
    from ingest.parse import MAX_TEXT_CHARS

    parsed = parse_message(builders.build_huge_text())
    assert len(parsed.text) == MAX_TEXT_CHARS
    assert any("text cut" in d for d in parsed.defects)


def test_mime_bombs_are_refused_before_the_parser_sees_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import mailparser

    def must_not_run(raw: bytes) -> None:
        raise AssertionError("mail-parser was called")

    monkeypatch.setattr(mailparser, "parse_from_bytes", must_not_run)
    with pytest.raises(ParseError, match="MIME structure too deep"):
        parse_message(builders.build_mime_bomb())
    with pytest.raises(ParseError, match="too many MIME parts"):
        parse_message(builders.build_many_parts())


# -- the whole-record corpus: every field of the parsed record, attachments' text included ---------------------

WHOLE_FILES = sorted((GOLDEN / "whole").glob("*.eml"))


@pytest.mark.parametrize("path", WHOLE_FILES, ids=[p.stem for p in WHOLE_FILES])
def test_whole_golden_message_parses_to_exactly_its_expected_record(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if any(a["text_status"] == "ocr" for a in expected["attachments"]):
        require_ocr()
    assert parsed_to_dict(parse_message(path.read_bytes())) == expected


def test_the_whole_record_corpus_covers_every_decoding_recovery_and_attachment_case() -> None:
    names = {p.stem for p in WHOLE_FILES}
    for path in WHOLE_FILES:
        assert path.with_suffix(".json").exists(), path.name
    assert {
        "utf8_with_one_stray_byte", "gb2312_label_on_gbk_bytes", "big5_label_on_hkscs_bytes", "shift_jis_label_on_cp932_bytes",
        "iso_2022_jp_with_extensions", "iso_8859_1_label_on_windows_1252_bytes", "encoded_word_holding_raw_8bit_bytes",
        "quoted_encoded_words_in_display_name", "raw_8bit_display_name_and_file_name", "leading_byte_order_mark", "leading_spaces",
        "forwarding_banner_before_headers", "header_folded_without_indentation", "two_from_headers_first_without_address",
        "sender_with_a_trailing_dot", "sender_without_angle_brackets", "complaint_as_pdf", "complaint_as_docx", "complaint_as_odt",
        "complaint_as_rtf", "complaint_as_html_attachment", "complaint_as_text_attachment", "complaint_forwarded_as_attachment",
        "complaint_forwarded_as_attachment_with_its_pdf",
        "complaint_as_outlook_msg", "complaint_as_photographed_letter", "complaint_as_iphone_heic_photo", "complaint_as_scanned_pdf", "encrypted_pdf", "broken_pdf",
        "zip_bomb_docx", "image_claiming_a_billion_pixels",
    } <= names  # fmt: skip
    assert sum(p.stat().st_size for p in (GOLDEN / "whole").iterdir()) < 1_000_000


def test_every_attachment_of_a_letter_in_the_whole_corpus_reads_as_the_typed_letter() -> None:
    typed = (GOLDEN / "whole" / "complaint_as_docx.json").read_text(encoding="utf-8")
    letter = json.loads(typed)["attachments"][0]["text"]
    for name in ("complaint_as_odt", "complaint_as_rtf", "complaint_as_text_attachment", "complaint_as_photographed_letter", "complaint_as_iphone_heic_photo", "complaint_as_scanned_pdf"):
        record = json.loads((GOLDEN / "whole" / (name + ".json")).read_text(encoding="utf-8"))
        assert record["attachments"][0]["text"] == letter, name
