"""Plain, frozen records that the ingest core produces.

They carry no I/O and no database objects, so the classifier and the rules
can take them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Address", "Attachment", "ParsedMessage", "AUTO_SIGNALS", "TEXT_STATUSES", "parsed_to_dict", "parsed_from_dict"]

#: The automatic-mail signals that :func:`ingest.parse.parse_message` can report.
AUTO_SIGNALS = (
    "auto-submitted",  # Auto-Submitted header present and not "no" (RFC 3834)
    "precedence",  # Precedence: bulk, list or junk
    "list",  # any List-* header (List-Id, List-Unsubscribe, ...)
    "empty-return-path",  # Return-Path: <>
    "robot-sender",  # mailer-daemon, postmaster, no-reply, noreply, do-not-reply ... sender
    "report",  # multipart/report (delivery status notification, bounce)
    "auto-response-suppress",  # X-Auto-Response-Suppress: All / OOF / AutoReply
    "auto-reply-subject",  # subject like "Automatisch antwoord:", "Out of Office:", "Afwezig:"
    "loop",  # X-Loop or our own X-Klachtwacht-Loop header
)


#: How far an attachment's text was read: "" not a kind whose text is read (or a record
#: stored before attachments were read), "read" all of it, "ocr" all of it by OCR,
#: "partial" some of it (cut, pages left out), "failed" none (see the defects).
TEXT_STATUSES = ("", "read", "ocr", "partial", "failed")


@dataclass(frozen=True, slots=True)
class Address:
    """One mail address with its display name (decoded)."""

    address: str  # lower-cased addr-spec, "" when unusable
    name: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """Metadata of one attachment and the text read from it; the bytes stay in the raw message."""

    filename: str  # decoded, "" when the part has none
    content_type: str  # lower-case, e.g. "application/pdf"
    size: int  # decoded payload size in bytes
    sha256: str  # hex digest of the decoded payload
    text: str = ""  # the text read from it (at most MAX_ATTACHMENT_TEXT characters), "" when none
    text_status: str = ""  # one of TEXT_STATUSES

    @property
    def read_fully(self) -> bool:
        """True when all of its text was read."""
        return self.text_status in ("read", "ocr")


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """Everything the later steps need from one message.

    ``received_at`` is not here: the legal receipt time is the server's
    INTERNALDATE and belongs to the sighting, not to the bytes.
    """

    message_id: str | None  # the Message-ID header as sent, whitespace stripped, None if absent
    sender: Address | None  # From
    reply_to: Address | None
    return_path: str | None  # "" for Return-Path: <>, None when absent
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    date: datetime | None  # the Date header, timezone-aware, None if absent or unreadable
    text: str  # plain text, or HTML converted to readable text
    text_from_html: bool
    language_hint: str | None  # Content-Language header if any
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]  # human-readable parse defects
    auto_signals: tuple[str, ...]  # subset of AUTO_SIGNALS, sorted
    in_reply_to: str | None
    references: tuple[str, ...] = field(default=())
    #: The X-Klachtwacht-Canary header as sent (a probe's token, checked later), None when absent.
    canary: str | None = None

    @property
    def is_automatic(self) -> bool:
        """True when any automatic-mail signal is present (RFC 3834 gate)."""
        return bool(self.auto_signals)


def parsed_to_dict(parsed: ParsedMessage) -> dict[str, object]:
    """A JSON-ready dict of ``parsed`` (datetimes as ISO-8601 strings)."""

    def addr(a: Address | None) -> dict[str, str] | None:
        return None if a is None else {"address": a.address, "name": a.name}

    return {
        "message_id": parsed.message_id,
        "sender": addr(parsed.sender),
        "reply_to": addr(parsed.reply_to),
        "return_path": parsed.return_path,
        "to": [addr(a) for a in parsed.to],
        "cc": [addr(a) for a in parsed.cc],
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "text": parsed.text,
        "text_from_html": parsed.text_from_html,
        "language_hint": parsed.language_hint,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256, "text": a.text, "text_status": a.text_status}
            for a in parsed.attachments
        ],
        "defects": list(parsed.defects),
        "auto_signals": list(parsed.auto_signals),
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references),
        **({"canary": parsed.canary} if parsed.canary is not None else {}),  # only probes carry it: other records stay as they were
    }


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def parsed_from_dict(data: dict[str, object]) -> ParsedMessage:
    """The inverse of :func:`parsed_to_dict`."""

    def addr(value: object) -> Address | None:
        if not isinstance(value, dict):
            return None
        return Address(address=str(value.get("address", "")), name=str(value.get("name", "")))

    def addrs(value: object) -> tuple[Address, ...]:
        items = value if isinstance(value, list) else []
        return tuple(a for a in (addr(v) for v in items) if a is not None)

    date = data.get("date")
    return ParsedMessage(
        message_id=data.get("message_id"),  # type: ignore[arg-type]
        sender=addr(data.get("sender")),
        reply_to=addr(data.get("reply_to")),
        return_path=data.get("return_path"),  # type: ignore[arg-type]
        to=addrs(data.get("to")),
        cc=addrs(data.get("cc")),
        subject=str(data.get("subject") or ""),
        date=datetime.fromisoformat(date) if isinstance(date, str) else None,
        text=str(data.get("text") or ""),
        text_from_html=bool(data.get("text_from_html")),
        language_hint=data.get("language_hint"),  # type: ignore[arg-type]
        attachments=tuple(
            Attachment(
                filename=a["filename"],
                content_type=a["content_type"],
                size=a["size"],
                sha256=a["sha256"],
                text=str(a.get("text") or ""),  # records stored before attachments were read have none
                text_status=str(a.get("text_status") or ""),
            )
            for a in _list(data.get("attachments"))
        ),
        defects=tuple(data.get("defects") or ()),  # type: ignore[arg-type]
        auto_signals=tuple(data.get("auto_signals") or ()),  # type: ignore[arg-type]
        in_reply_to=data.get("in_reply_to"),  # type: ignore[arg-type]
        references=tuple(data.get("references") or ()),  # type: ignore[arg-type]
        canary=str(data["canary"]) if isinstance(data.get("canary"), str) else None,
    )
