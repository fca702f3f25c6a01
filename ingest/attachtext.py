"""The text of each attachment, read as far as the limits allow, every shortfall a defect.

Plain-text and HTML attachments are read here (the linear decoders of
:mod:`ingest.charsets` and :mod:`ingest.htmltext`), an attached message
gives the text of its own body (already read by the walk) and of its own
attachments, one level deep, and every other
kind goes to an :class:`~ingest.extract.Extractor`, which by default reads
it in a process of its own. At most ``limits.max_attachments`` attachments
per message are read, within ``limits.message_budget`` seconds.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from ingest.extract import Extraction, Extractor, kind_of
from ingest.htmltext import convert_html
from ingest.mimetext import clean, decode_bytes
from ingest.records import Attachment
from ingest.walk import Payload

__all__ = ["read_attachments"]


@dataclass
class _Budget:
    """How many attachments may still be read, and until when."""

    left: int
    until: float


def read_attachments(
    attachments: list[Attachment],
    payloads: list[Payload],
    scope_texts: list[str],
    extractor: Extractor,
    defects: list[str],
    nested: list[tuple[int, Attachment, Payload]] | None = None,
) -> list[Attachment]:
    """``attachments`` with ``text`` and ``text_status`` filled in.

    An attached message's text is its own body followed by the text of its
    own attachments (``nested``, one level deep), each under a line naming it.
    """
    limits = extractor.limits
    budget = _Budget(limits.max_attachments, time.monotonic() + limits.message_budget)
    out: list[Attachment] = []
    for number, (attachment, payload) in enumerate(zip(attachments, payloads), start=1):
        where = "attachment %d (%s)" % (number, attachment.filename or attachment.content_type)
        if payload.scope is None:
            out.append(_read_one(attachment, payload, extractor, budget, where, defects))
            continue
        text = scope_texts[payload.scope] if payload.scope < len(scope_texts) else ""
        status = "read"
        for inner_number, (_, inner, inner_payload) in enumerate((n for n in nested or () if n[0] == payload.scope), start=1):
            got = _read_one(inner, inner_payload, extractor, budget, "%s, its attachment %d (%s)" % (where, inner_number, inner.filename or inner.content_type), defects)
            if got.text:
                text += "\n\n[%s]\n%s" % (inner.filename or inner.content_type, got.text)
            if got.text_status in ("partial", "failed"):
                status = "partial"
            elif got.text_status == "ocr" and status == "read":
                status = "ocr"
        out.append(_with(attachment, Extraction(text, status != "partial", ocr=status == "ocr"), "ocr" if status == "ocr" else "read", limits.max_text_chars, where, defects))
    return out


def _read_one(attachment: Attachment, payload: Payload, extractor: Extractor, budget: _Budget, where: str, defects: list[str]) -> Attachment:
    limits = extractor.limits
    kind = kind_of(attachment.filename, attachment.content_type, payload.data[:16])
    if kind is None or not payload.data:
        return attachment
    budget.left -= 1
    if budget.left < 0:
        defects.append("%s: not read, only the first %d attachments of a message are read" % (where, limits.max_attachments))
        return dataclasses.replace(attachment, text_status="failed")
    if time.monotonic() > budget.until:
        defects.append("%s: not read, reading the attachments took longer than %d s" % (where, int(limits.message_budget)))
        return dataclasses.replace(attachment, text_status="failed")
    if kind in ("text", "html"):
        result = _read_text(payload, kind, defects, where)
    else:
        result = extractor.extract(kind, payload.data)
    return _with(attachment, result, "ocr" if result.ocr else "read", limits.max_text_chars, where, defects)


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
