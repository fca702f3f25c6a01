"""The text of each attachment, read as far as the limits allow, every shortfall a defect.

Plain-text and HTML attachments are read here (the linear decoders of
:mod:`ingest.charsets` and :mod:`ingest.htmltext`), an attached message
gives the text of its own body (already read by the walk), and every other
kind goes to an :class:`~ingest.extract.Extractor`, which by default reads
it in a process of its own. At most ``limits.max_attachments`` attachments
per message are read, within ``limits.message_budget`` seconds.
"""

from __future__ import annotations

import dataclasses
import time

from ingest.extract import Extraction, Extractor, kind_of
from ingest.htmltext import convert_html
from ingest.mimetext import clean, decode_bytes
from ingest.records import Attachment
from ingest.walk import Payload

__all__ = ["read_attachments"]


def read_attachments(
    attachments: list[Attachment], payloads: list[Payload], scope_texts: list[str], extractor: Extractor, defects: list[str]
) -> list[Attachment]:
    """``attachments`` with ``text`` and ``text_status`` filled in."""
    limits = extractor.limits
    started = time.monotonic()
    out: list[Attachment] = []
    tried = 0
    for number, (attachment, payload) in enumerate(zip(attachments, payloads), start=1):
        where = "attachment %d (%s)" % (number, attachment.filename or attachment.content_type)
        if payload.scope is not None:
            text = scope_texts[payload.scope] if payload.scope < len(scope_texts) else ""
            out.append(_with(attachment, Extraction(text), "read", limits.max_text_chars, where, defects))
            continue
        kind = kind_of(attachment.filename, attachment.content_type, payload.data[:16])
        if kind is None or not payload.data:
            out.append(attachment)
            continue
        tried += 1
        if tried > limits.max_attachments:
            defects.append("%s: not read, only the first %d attachments of a message are read" % (where, limits.max_attachments))
            out.append(dataclasses.replace(attachment, text_status="failed"))
            continue
        if time.monotonic() - started > limits.message_budget:
            defects.append("%s: not read, reading the attachments took longer than %d s" % (where, int(limits.message_budget)))
            out.append(dataclasses.replace(attachment, text_status="failed"))
            continue
        if kind in ("text", "html"):
            result = _read_text(payload, kind, defects, where)
        else:
            result = extractor.extract(kind, payload.data)
        out.append(_with(attachment, result, "ocr" if result.ocr else "read", limits.max_text_chars, where, defects))
    return out


def _read_text(payload: Payload, kind: str, defects: list[str], where: str) -> Extraction:
    text = decode_bytes(payload.data, payload.charset, defects, where)
    if kind == "html":
        text, truncated = convert_html(text)
        if truncated:
            return Extraction(text.strip(), False, ("only the start of the HTML was converted to text",))
    return Extraction(text.replace("\r\n", "\n").strip())


def _with(attachment: Attachment, result: Extraction, full: str, limit: int, where: str, defects: list[str]) -> Attachment:
    defects.extend("%s: %s" % (where, d) for d in result.defects)
    text = clean(result.text.replace("\r\n", "\n")).strip()
    complete = result.complete
    if len(text) > limit:
        defects.append("%s: text cut to %d of %d characters" % (where, limit, len(text)))
        text, complete = text[:limit], False
    if not result.complete and not text:
        status = "failed"
    else:
        status = full if complete else "partial"
    return dataclasses.replace(attachment, text=text, text_status=status)
