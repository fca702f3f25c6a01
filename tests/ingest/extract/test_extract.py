"""Attachment text extraction: each kind is read, and every limit gives a defect, never a stuck or crashed pass."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from support.ocr import require_ocr

from ingest.attachtext import read_attachments
from ingest.extract import InProcessExtractor, Limits, ProcessExtractor, kind_of
from ingest.parse import parse_message
from ingest.records import Attachment
from ingest.walk import Payload

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location("golden_" + name, GOLDEN / (name + ".py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


documents = _module("documents")
LETTER = ["Geachte wethouder,", "", "Mijn klacht: de lantaarnpaal in de Beukenlaan is al een maand kapot."]
TYPED = "Geachte wethouder,\n\nMijn klacht: de lantaarnpaal in de Beukenlaan is al een maand kapot."


def _attachment(name: str, ctype: str) -> Attachment:
    return Attachment(filename=name, content_type=ctype, size=0, sha256="0" * 64)


def test_the_kind_is_decided_by_the_bytes_before_the_name() -> None:
    assert kind_of("brief.txt", "text/plain", b"%PDF-1.4\n") == "pdf"
    assert kind_of("scan", "application/octet-stream", b"\xff\xd8\xff\xe0") == "image"
    assert kind_of("brief.docx", "application/octet-stream", b"PK\x03\x04") == "docx"
    assert kind_of("archief.zip", "application/zip", b"PK\x03\x04") is None
    assert kind_of("foto.jpg", "image/jpeg", b"not an image") is None
    assert kind_of("", "text/csv", b"a;b") == "text"
    assert kind_of("IMG_0413.HEIC", "application/octet-stream", b"\x00\x00\x00\x1cftypheic\x00\x00") == "image"


@pytest.mark.parametrize(
    "kind, data",
    [("pdf", documents.pdf(LETTER)), ("docx", documents.docx(LETTER)), ("odt", documents.odt(LETTER)), ("rtf", documents.rtf(LETTER))],
)
def test_each_document_kind_reads_as_the_typed_text_in_a_process_of_its_own(kind: str, data: bytes) -> None:
    result = ProcessExtractor().extract(kind, data)
    assert result.complete and not result.defects
    assert result.text.replace("\n\n", "\n") == TYPED.replace("\n\n", "\n")


def test_a_photographed_letter_is_read_by_ocr_in_dutch() -> None:
    require_ocr()
    result = ProcessExtractor().extract("image", documents.letter_image(LETTER, rotate=-1.5, noise=25)[0])
    assert result.ocr and result.complete
    assert "lantaarnpaal in de Beukenlaan" in result.text


def test_ocr_beyond_the_time_limit_gives_a_defect_and_no_text() -> None:
    require_ocr()
    result = ProcessExtractor(Limits(timeout=0.5)).extract("pdf", documents.scanned_pdf(LETTER))
    assert result.text == "" and not result.complete
    assert any("longer than" in d or "no time left" in d for d in result.defects), result.defects


def test_a_reading_process_that_dies_gives_a_defect_not_a_crash() -> None:
    result = ProcessExtractor(Limits(memory_bytes=32 * 1024 * 1024)).extract("pdf", documents.pdf(LETTER))
    assert result.text == "" and not result.complete
    assert result.defects and ("memory" in result.defects[0] or "reading process" in result.defects[0]), result.defects


def test_without_tesseract_an_image_gives_a_defect(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = ProcessExtractor().extract("image", documents.letter_image(LETTER)[0])
    assert result.defects == ("OCR is not available: tesseract is not installed",)


def test_an_attachment_over_the_size_limit_is_not_read() -> None:
    result = ProcessExtractor(Limits(max_bytes=100)).extract("pdf", documents.pdf(LETTER))
    assert not result.complete and "too large to read" in result.defects[0]


def test_a_document_that_unpacks_beyond_the_limit_is_refused() -> None:
    result = InProcessExtractor(Limits(max_unpacked=200)).extract("docx", documents.docx(LETTER * 10))
    assert result.text == "" and "unpacks to" in result.defects[0]


def test_a_long_attachment_text_is_cut_with_a_defect_and_marked_partial() -> None:
    defects: list[str] = []
    extractor = InProcessExtractor(Limits(max_text_chars=20))
    [got] = read_attachments([_attachment("brief.txt", "text/plain")], [Payload(("x" * 100).encode())], [""], extractor, defects)
    assert got.text == "x" * 20 and got.text_status == "partial"
    assert defects == ["attachment 1 (brief.txt): text cut to 20 of 100 characters"]


def test_only_the_first_attachments_of_a_message_are_read() -> None:
    defects: list[str] = []
    items = [_attachment("brief-%d.txt" % i, "text/plain") for i in range(3)]
    got = read_attachments(items, [Payload(b"tekst %d" % i) for i in range(3)], [""], InProcessExtractor(Limits(max_attachments=2)), defects)
    assert [a.text_status for a in got] == ["read", "read", "failed"]
    assert defects == ["attachment 3 (brief-2.txt): not read, only the first 2 attachments of a message are read"]


def test_an_attachment_of_an_unread_kind_keeps_no_text_and_no_status() -> None:
    got = read_attachments([_attachment("film.mp4", "video/mp4")], [Payload(b"\x00\x00\x00\x18ftypmp42")], [""], InProcessExtractor(), [])
    assert got[0].text == "" and got[0].text_status == ""


def test_parse_message_takes_the_extractor_it_is_given() -> None:
    raw = (GOLDEN / "whole" / "complaint_as_pdf.eml").read_bytes()
    parsed = parse_message(raw, InProcessExtractor())
    expected = json.loads((GOLDEN / "whole" / "complaint_as_pdf.json").read_text(encoding="utf-8"))
    assert parsed.attachments[0].text == expected["attachments"][0]["text"]


def test_pages_beyond_the_page_limit_are_left_out_with_a_defect() -> None:
    result = InProcessExtractor(Limits(max_pages=2)).extract("pdf", documents.pdf(LETTER, pages=3))
    assert result.text.count("lantaarnpaal") == 2 and not result.complete
    assert result.defects == ("only the first 2 of 3 pages were read",)


def test_scanned_pages_beyond_the_ocr_limit_are_left_out_with_a_defect() -> None:
    result = InProcessExtractor(Limits(max_ocr_pages=0)).extract("pdf", documents.scanned_pdf(LETTER))
    assert result.text == "" and not result.complete
    assert result.defects == ("only 0 of 1 scanned pages were read by OCR",)


def test_a_huge_image_is_refused_before_it_is_decoded() -> None:
    image = documents.letter_image(LETTER)[0]
    result = InProcessExtractor(Limits(max_pixels=1000)).extract("image", image)
    assert result.text == "" and "the image is too large to read" in result.defects[0]
