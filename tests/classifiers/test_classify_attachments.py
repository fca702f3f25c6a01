"""A complaint in an attachment under "zie bijlage" is judged on the attachment's text, with the shipped model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from support.ocr import require_ocr

from classifiers.attachment_text import classifier_input
from ingest.parse import parse_message
from ingest.records import Address, Attachment, ParsedMessage, parsed_from_dict, parsed_to_dict

WHOLE = Path(__file__).resolve().parents[1] / "golden" / "whole"
TYPED = json.loads((WHOLE / "complaint_as_docx.json").read_text(encoding="utf-8"))["attachments"][0]["text"]


def _parsed(text: str, *attachments: Attachment) -> ParsedMessage:
    return ParsedMessage(
        message_id="<x@example.nl>", sender=Address("a@example.nl"), reply_to=None, return_path=None, to=(), cc=(), subject="Klacht",
        date=None, text=text, text_from_html=False, language_hint=None, attachments=attachments, defects=(), auto_signals=(), in_reply_to=None,
    )  # fmt: skip


def _pdf(text: str, status: str = "read", name: str = "brief.pdf") -> Attachment:
    return Attachment(filename=name, content_type="application/pdf", size=1, sha256="0" * 64, text=text, text_status=status)


@pytest.mark.parametrize("name, reason", [
    ("complaint_as_pdf", "de tekst van de bijlage brief.pdf is gelezen"),
    ("complaint_as_docx", "de tekst van de bijlage brief.docx is gelezen"),
    ("complaint_as_photographed_letter", "de tekst van de bijlage IMG_0412.jpg is gelezen (met tekstherkenning)"),
    ("complaint_as_scanned_pdf", "de tekst van de bijlage scan.pdf is gelezen (met tekstherkenning)"),
    ("complaint_forwarded_as_attachment_with_its_pdf", "de tekst van de bijlage Brief.eml is gelezen"),
])  # fmt: skip
def test_a_complaint_attached_under_zie_bijlage_is_a_klacht_as_the_typed_text_is(classifier: Any, name: str, reason: str) -> None:
    if "photographed" in name or "scanned" in name:
        require_ocr()
    parsed = parse_message((WHOLE / (name + ".eml")).read_bytes())
    typed = classifier.classify(parsed.subject, TYPED)
    result = classifier.classify_parsed(parsed)
    assert typed.label == "klacht"
    assert result.label == typed.label
    assert not result.needs_review
    assert result.reasons[0] == reason


def test_without_its_attachment_text_the_same_message_is_not_a_klacht(classifier: Any) -> None:
    record = parsed_to_dict(parse_message((WHOLE / "complaint_as_pdf.eml").read_bytes()))
    for attachment in record["attachments"]:  # type: ignore[union-attr]
        del attachment["text"], attachment["text_status"]  # as stored before attachments were read
    assert classifier.classify_parsed(parsed_from_dict(record)).label != "klacht"


def test_an_unreadable_attachment_under_zie_bijlage_goes_to_review(classifier: Any) -> None:
    result = classifier.classify_parsed(parse_message((WHOLE / "encrypted_pdf.eml").read_bytes()))
    assert result.needs_review
    assert result.reasons[0] == "de bijlage beveiligd.pdf kon niet worden gelezen: ter beoordeling"


def test_a_body_that_says_enough_is_judged_without_its_attachments() -> None:
    body = " ".join(["De stoep in onze straat is al maanden kapot en niemand doet er iets aan, ik ben het zat."] * 3)
    given = classifier_input(_parsed(body, _pdf("Factuur nummer 123 voor de levering van tegels")))
    assert given.body == body and given.reasons == ()


def test_an_empty_body_is_read_from_every_attachment_with_text_in_order() -> None:
    given = classifier_input(_parsed("", _pdf("eerste brief met tekst"), _pdf("", "", "film.mp4"), _pdf("tweede brief met tekst", "partial", "b.pdf")))
    assert given.body == "eerste brief met tekst\n\ntweede brief met tekst"
    assert given.reasons == ("de tekst van de bijlage brief.pdf is gelezen", "de tekst van de bijlage b.pdf is gelezen, niet volledig")
    assert not given.needs_review


def test_the_body_of_an_attached_message_is_not_added_twice() -> None:
    mail = dataclasses.replace(_pdf("de doorgestuurde klacht zelf"), content_type="message/rfc822", filename="klacht.eml")
    given = classifier_input(_parsed("Ter info.\n\nde doorgestuurde klacht zelf", mail))
    assert given.body == "Ter info.\n\nde doorgestuurde klacht zelf" and given.reasons == ()


def test_the_batch_path_reads_attachments_as_the_single_path_does(classifier: Any) -> None:
    parsed = [_parsed("Zie bijlage.", _pdf(TYPED)), _parsed("Zie bijlage.", _pdf("Graag ontvang ik de folder over afvalscheiding."))]
    one_by_one = [classifier.classify_parsed(p) for p in parsed]
    batch = classifier.classify_parsed_many(parsed)
    assert [(r.label, r.reasons) for r in batch] == [(r.label, r.reasons) for r in one_by_one]
    assert batch[0].label == "klacht" and "de tekst van de bijlage brief.pdf is gelezen" in batch[0].reasons
