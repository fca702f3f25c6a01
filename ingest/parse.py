"""Raw message bytes in, a frozen :class:`~ingest.records.ParsedMessage` out.

mail-parser reads the MIME tree (the standard library's compat32 parser
underneath, so Exchange's ``Message-ID: <[...]@...>`` cannot make header
access raise) and the date. The standard library takes over where
mail-parser loses data: it decodes with ``errors="ignore"`` (8-bit headers,
unknown charsets), keeps attachments base64-encoded in memory and misses
uuencoded files (mail-parser issue #80). So text, headers and attachments
are decoded here from the tree and from the raw bytes, in rooms of their own:

- :mod:`ingest.recover`: junk before the header block, unindented folds;
- :mod:`ingest.limits`: MIME bombs refused before any parser;
- :mod:`ingest.charsets`, :mod:`ingest.encodedwords`, :mod:`ingest.scripts`:
  bytes to text per part, per line and per run of bytes;
- :mod:`ingest.addresses`: addresses, display names and their repairs;
- :mod:`ingest.walk`: body text and attachments from the MIME tree;
- :mod:`ingest.attachtext` and :mod:`ingest.extract`: the attachments' text.

Only input that is not a mail message at all, or that exceeds a structural
limit (:data:`MAX_PARTS`, :data:`MAX_DEPTH`, :data:`MAX_ENCODED_WORDS`),
raises :class:`~klachtwacht.errors.ParseError`; every other oddity and every
repair becomes a ``defects`` entry. No byte is dropped silently.
"""

from __future__ import annotations

import email
import logging
import re
from datetime import datetime, timezone
from email.errors import StartBoundaryNotFoundDefect
from email.message import Message
from email.utils import parsedate_to_datetime

import mailparser

from ingest import addresses
from ingest.addresses import MAX_HEADER_CHARS
from ingest.attachtext import read_attachments
from ingest.autosignals import auto_signals
from ingest.extract import Extractor, default_extractor
from ingest.htmltext import convert_html
from ingest.identity import header_message_id
from ingest.limits import MAX_DEPTH, MAX_ENCODED_WORDS, MAX_PARTS, check_structure, check_tree
from ingest.mimetext import Headers, clean, clip
from ingest.records import ParsedMessage
from ingest.recover import recover_start, rejoin_headers
from ingest.walk import Walk, walk_tree
from klachtwacht.errors import ParseError

__all__ = ["parse_message", "MAX_PARTS", "MAX_DEPTH", "MAX_ENCODED_WORDS", "MAX_TEXT_CHARS", "MAX_DEFECTS"]

log = logging.getLogger(__name__)

# mail-parser logs header values and file names (at error level, too); they are
# personal data and stay out of the logs (design principle 8).
logging.getLogger("mailparser").setLevel(logging.CRITICAL)

#: The text keeps at most this many characters; the rest is cut with a defect.
MAX_TEXT_CHARS = 1_000_000
#: At most this many defects are listed; one more line counts the rest.
MAX_DEFECTS = 50

_SINGLE_HEADERS = ("sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to")
_MSG_ID = re.compile(r"<[^<>]*>")


def parse_message(raw: bytes, extractor: Extractor | None = None) -> ParsedMessage:
    """Parse the bytes of one message.

    Never raises anything but :class:`ParseError`, and that only when
    ``raw`` has no header block at all (empty input, arbitrary binary), when
    its MIME structure has more than :data:`MAX_PARTS` parts or is nested
    deeper than :data:`MAX_DEPTH`, or its header block holds more than
    :data:`MAX_ENCODED_WORDS` encoded words (all checked on the bytes before
    any parser sees them), or when mail-parser or the ``email`` package fail
    in an unforeseen way (chained with ``from``). Everything else is a
    ``defects`` entry. The result is pure data that
    :func:`ingest.records.parsed_to_dict` turns into JSON; the whole run is
    about linear in ``len(raw)`` (25 MB: some 2 s), plus the time to read the
    attachments' text with ``extractor`` (default: each in a process of its
    own, see :mod:`ingest.extract`).
    """
    raw = bytes(raw)
    raw, early_defects = _prepare(raw)
    check_structure(raw)
    message, parser = _read_tree(raw, early_defects)
    try:
        check_tree(message)
        return _build(raw, parser, message, early_defects, extractor or default_extractor())
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError("unexpected %s while reading the message" % type(exc).__name__) from exc


def _read_tree(raw: bytes, defects: list[str]) -> tuple[Message, mailparser.MailParser | None]:
    """The MIME tree from mail-parser; the standard library's only for mail-parser's known crash.

    mail-parser 4.8.0 raises (AttributeError, TypeError) while recovering the
    epilogue of a multipart whose start boundary never appears, a common
    kind of truncated or re-encoded mail. Only then is the standard
    library's own compat32 tree used, with a defect; any other failure is
    a :class:`ParseError` chained to its cause.
    """
    try:
        parser = mailparser.parse_from_bytes(raw)
    except Exception as exc:
        message = _tree_with_missing_start_boundary(raw)
        if message is None:
            raise ParseError("mail-parser could not read the message (%s)" % type(exc).__name__) from exc
        log.info("mail-parser failed (%s); using the standard library's tree", type(exc).__name__)
        defects.append("mail-parser failed on a missing start boundary (%s); read with the standard library" % type(exc).__name__)
        return message, None
    if parser.message is None:
        raise ParseError("mail-parser returned no message")
    return parser.message, parser


def _tree_with_missing_start_boundary(raw: bytes) -> Message | None:
    """The standard library's tree of ``raw`` if it shows StartBoundaryNotFoundDefect, else None."""
    try:
        message = email.message_from_bytes(raw)  # compat32, as in mail-parser
        check_tree(message)
        found = any(isinstance(d, StartBoundaryNotFoundDefect) for part in message.walk() for d in part.defects)
    except Exception:
        return None
    return message if found else None


def _prepare(raw: bytes) -> tuple[bytes, list[str]]:
    """Return the bytes to parse and early defects; refuse non-mail (see :mod:`ingest.recover`)."""
    raw, defects = recover_start(raw)
    raw, joined = rejoin_headers(raw)
    return raw, defects + joined


def _build(raw: bytes, parser: mailparser.MailParser | None, message: Message, defects: list[str], extractor: Extractor) -> ParsedMessage:
    """Assemble the record from the parsed tree."""
    headers = Headers(message, _charset_hint(message))
    defects.extend(_header_defects(headers, parser))
    subject = clip(headers.text("subject", defects) or "", MAX_HEADER_CHARS, "Subject", defects)
    sender = addresses.sender(headers, defects)
    return_path = addresses.return_path(headers.text("return-path"))
    walk = walk_tree(message, headers.hint)
    text, from_html, scope_texts = _text(walk, defects)
    defects.extend(walk.defects)
    attachments = read_attachments(walk.attachments, walk.payloads, scope_texts, extractor, defects, walk.nested)
    language = (headers.text("content-language") or "").strip()[:100] or None
    in_reply_to = " ".join((headers.text("in-reply-to") or "").split())[:2000] or None
    signals = auto_signals(headers.pairs(), sender, return_path, message.get_content_type(), subject)
    message_id = header_message_id(raw)  # the same value the deduplication uses
    return ParsedMessage(
        message_id=clean(message_id) if message_id else None,
        sender=sender,
        reply_to=addresses.first(addresses.addresses(headers, "reply-to", defects)),
        return_path=return_path,
        to=addresses.addresses(headers, "to", defects),
        cc=addresses.addresses(headers, "cc", defects),
        subject=subject,
        date=_date(headers.text("date"), parser, defects),
        text=text,
        text_from_html=from_html,
        language_hint=clean(language) if language else None,
        attachments=tuple(attachments),
        defects=_capped(defects),
        auto_signals=signals,
        in_reply_to=clean(in_reply_to) if in_reply_to else None,
        references=_references(headers.text("references")),
        canary=_canary(headers.text("x-klachtwacht-canary")),
    )


def _canary(value: str | None) -> str | None:
    """The probe header, whitespace stripped and bounded (klachtwacht.canary checks it; nothing here trusts it)."""
    value = " ".join((value or "").split())
    return value[:500] or None


def _charset_hint(message: Message) -> str | None:
    """The first charset a text part declares: how the sender's mailer writes 8-bit bytes without a label."""
    for part in message.walk():
        charset = part.get_content_charset() if part.get_content_maintype() == "text" else None
        if charset and charset not in ("us-ascii", "ascii"):
            return charset
    return None


def _header_defects(headers: Headers, parser: mailparser.MailParser | None) -> list[str]:
    """Missing and repeated header fields, and mail-parser's findings on the Date header."""
    found = [("no %s header" % name) for name in ("From", "Date") if headers.count(name.lower()) == 0]
    for name in _SINGLE_HEADERS:
        if headers.count(name) > 1:
            found.append("%d %s headers; the first is used" % (headers.count(name), name.title()))
    for item in parser.date_header_defects if parser else ():
        if item.get("header") == "date" and item.get("occurrence") == 0:
            found.append("Date header: %s" % item.get("reason"))
    return found


def _date(value: str | None, parser: mailparser.MailParser | None, defects: list[str]) -> datetime | None:
    """The Date header as an aware datetime (naive ones are taken as UTC)."""
    if value is None:
        return None
    date: datetime | None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        date = parser.date if parser and isinstance(parser.date, datetime) else None
    if date is None:
        defects.append("Date header is unreadable")
        return None
    return date if date.tzinfo is not None else date.replace(tzinfo=timezone.utc)


def _references(value: str | None) -> tuple[str, ...]:
    """The message ids in References: the first one and the last 99."""
    if not value:
        return ()
    ids = _MSG_ID.findall(value) or value.split()
    ids = [clean(i[:998]) for i in ids]
    return tuple(ids if len(ids) <= 100 else [ids[0], *ids[-99:]])


def _text(walk: Walk, defects: list[str]) -> tuple[str, bool, list[str]]:
    """Join the body text of every scope; HTML only where a scope has no plain text. Also each scope's own text."""
    pieces: list[str] = []
    from_html = False
    for scope in walk.scopes:
        plain = "\n\n".join(p.strip("\r\n") for p in scope.plain)
        if plain.strip() or not scope.html:
            pieces.append(plain)
            continue
        converted = []
        for html in scope.html:
            text, truncated = convert_html(html)
            if truncated:
                defects.append("HTML body too long; only its start was converted to text")
            converted.append(text)
        pieces.append("\n\n".join(converted))
        from_html = True
    text = "\n\n".join(p for p in pieces if p.strip()).replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        defects.append("NUL characters in the text were replaced")
    text = clean(text)
    if len(text) > MAX_TEXT_CHARS:
        defects.append("text cut to %d of %d characters" % (MAX_TEXT_CHARS, len(text)))
        text = text[:MAX_TEXT_CHARS]
    scope_texts = [clean(p.replace("\r\n", "\n").replace("\r", "\n").strip()) for p in pieces]
    return text, from_html, scope_texts


def _capped(defects: list[str]) -> tuple[str, ...]:
    """Unique defects in order of finding, at most :data:`MAX_DEFECTS` of them."""
    unique = list(dict.fromkeys(clean(d[:500]) for d in defects))
    if len(unique) > MAX_DEFECTS:
        unique = [*unique[: MAX_DEFECTS - 1], "and %d more defects" % (len(unique) - MAX_DEFECTS + 1)]
    return tuple(unique)
