"""Raw message bytes in, a frozen :class:`~ingest.records.ParsedMessage` out.

mail-parser reads the MIME tree (the standard library's compat32 parser
underneath, so Exchange's ``Message-ID: <[...]@...>`` cannot make header
access raise), the addresses and the date. The standard library takes over
where mail-parser loses data: it decodes with ``errors="ignore"`` (8-bit
headers, unknown charsets), keeps attachments base64-encoded in memory and
misses uuencoded files (mail-parser issue #80). So text, headers and
attachments are decoded here from the tree: with the declared charset, then
UTF-8, then Windows-1252 with replacement characters, and a defect for every
fallback. No byte is dropped silently.

Only input that is not a mail message at all, or that exceeds a structural
limit (:data:`MAX_PARTS`, :data:`MAX_DEPTH`, :data:`MAX_ENCODED_WORDS`),
raises :class:`~klachtwacht.errors.ParseError`; every other oddity becomes a
``defects`` entry. The decoding helpers at the end of the module are one
room of their own and would move to a module of their own as they grow.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import hashlib
import io
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.errors import MessageDefect, StartBoundaryNotFoundDefect
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from email.utils import parsedate_to_datetime

import mailparser
from mailparser.utils import get_addresses

from ingest.autosignals import auto_signals
from ingest.htmltext import convert_html
from ingest.identity import header_message_id
from ingest.records import Address, Attachment, ParsedMessage
from klachtwacht.errors import ParseError

__all__ = ["parse_message", "MAX_PARTS", "MAX_DEPTH", "MAX_ENCODED_WORDS", "MAX_TEXT_CHARS", "MAX_DEFECTS"]

log = logging.getLogger(__name__)

# mail-parser logs header values and file names (at error level, too); they are
# personal data and stay out of the logs (design principle 8).
logging.getLogger("mailparser").setLevel(logging.CRITICAL)

#: A message with more MIME parts than this is refused (a MIME bomb).
MAX_PARTS = 500
#: A message with multiparts nested deeper than this is refused.
MAX_DEPTH = 20
#: A header block with more RFC 2047 encoded words than this is refused: the
#: standard library's ``decode_header``, which mail-parser runs on every header,
#: is quadratic in them (20,000 cost 1.3 s, 70,000 cost 10 s).
MAX_ENCODED_WORDS = 10_000
#: The text keeps at most this many characters; the rest is cut with a defect.
MAX_TEXT_CHARS = 1_000_000
#: At most this many defects are listed; one more line counts the rest.
MAX_DEFECTS = 50
#: Subjects and display names are cut to this many characters.
MAX_HEADER_CHARS = 10_000

_HEADER_START = re.compile(rb"From |[\x21-\x39\x3b-\x7e]+[ \t]*:")
_BOUNDARY_VALUE = re.compile(rb'[ \t]*=[ \t]*(?:"([^"\r\n]*)"|([^\s;"]+))')
_LINE_START_DASHES = re.compile(rb"\n--")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_SINGLE_HEADERS = ("from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to")
_MSG_ID = re.compile(r"<[^<>]*>")
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_BODY_TYPES = ("text/plain", "text/html")


def parse_message(raw: bytes) -> ParsedMessage:
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
    about linear in ``len(raw)`` (25 MB: some 2 s).
    """
    raw = bytes(raw)
    raw, early_defects = _prepare(raw)
    _check_structure(raw)
    message, parser = _read_tree(raw, early_defects)
    try:
        _check_tree(message)
        return _build(raw, parser, message, early_defects)
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
        _check_tree(message)
        found = any(isinstance(d, StartBoundaryNotFoundDefect) for part in message.walk() for d in part.defects)
    except Exception:
        return None
    return message if found else None


def _prepare(raw: bytes) -> tuple[bytes, list[str]]:
    """Return the bytes to parse and early defects; refuse non-mail."""
    if not raw.strip():
        raise ParseError("not a mail message: the input is empty")
    stripped = raw.lstrip(b"\r\n")
    if not _HEADER_START.match(stripped):
        raise ParseError("not a mail message: no header block at the start of the input")
    defects = ["blank lines before the header block were skipped"] if len(stripped) != len(raw) else []
    return stripped, defects


def _check_structure(raw: bytes) -> None:
    """Refuse MIME bombs with a cheap scan of the bytes, before any parser.

    Every delimiter line of a declared boundary opens a part; a boundary
    seen for the first time opens one more nesting level, and the
    delimiter of an enclosing boundary closes the levels inside it. The
    header block may hold at most :data:`MAX_ENCODED_WORDS` encoded words.
    """
    end_of_head = _HEADER_END.search(raw)
    words = raw.count(b"=?", 0, end_of_head.start() if end_of_head else len(raw))
    if words > MAX_ENCODED_WORDS:
        raise ParseError("too many encoded words in the header block: %d (limit %d)" % (words, MAX_ENCODED_WORDS))
    lower = raw.lower()
    declared: set[bytes] = set()
    pos = lower.find(b"boundary")
    while pos >= 0:
        match = _BOUNDARY_VALUE.match(raw, pos + 8)
        if match:
            declared.add((match.group(1) if match.group(1) is not None else match.group(2)).rstrip())
        pos = lower.find(b"boundary", pos + 8)
    declared.discard(b"")
    if not declared:
        return
    starts = [0] if raw.startswith(b"--") else []
    starts_iter = (m.start() + 1 for m in _LINE_START_DASHES.finditer(raw))
    stack: list[bytes] = []
    parts = 1
    for start in (*starts, *starts_iter) if starts else starts_iter:
        end = raw.find(b"\n", start)
        token = raw[start + 2 : len(raw) if end < 0 else end].rstrip(b"\r\t ")
        closing = token not in declared and token.endswith(b"--") and token[:-2] in declared
        if closing:
            token = token[:-2]
        elif token not in declared:
            continue
        if token in stack:
            del stack[stack.index(token) + (0 if closing else 1) :]
        elif not closing:
            stack.append(token)
            if len(stack) > MAX_DEPTH:
                raise ParseError("MIME structure too deep: at least %d nested levels (limit %d)" % (len(stack), MAX_DEPTH))
        if not closing:
            parts += 1
            if parts > MAX_PARTS:
                raise ParseError("too many MIME parts: at least %d (limit %d)" % (parts, MAX_PARTS))


def _check_tree(message: Message) -> None:
    """The exact limits on the parsed tree (catches what the scan cannot see)."""
    parts = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > MAX_PARTS:
            raise ParseError("too many MIME parts: at least %d (limit %d)" % (parts, MAX_PARTS))
        if depth > MAX_DEPTH:
            raise ParseError("MIME structure too deep: at least %d nested levels (limit %d)" % (depth, MAX_DEPTH))
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in part.get_payload() if isinstance(child, Message))


@dataclass
class _Scope:
    """The body parts of the message itself (scope 0) or of one attached message."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)


@dataclass
class _Walk:
    """What a walk over the MIME tree collects."""

    scopes: list[_Scope] = field(default_factory=lambda: [_Scope()])
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _build(raw: bytes, parser: mailparser.MailParser | None, message: Message, defects: list[str]) -> ParsedMessage:
    """Assemble the record from the parsed tree."""
    headers = _Headers(message)
    defects.extend(_header_defects(headers, parser))
    subject = _clip(headers.text("subject", defects) or "", MAX_HEADER_CHARS, "Subject", defects)
    sender = _first(_addresses(headers, "from", defects))
    return_path = _return_path(headers.text("return-path"))
    walk = _walk(message)
    text, from_html = _text(walk, defects)
    defects.extend(walk.defects)
    language = (headers.text("content-language") or "").strip()[:100] or None
    in_reply_to = " ".join((headers.text("in-reply-to") or "").split())[:2000] or None
    signals = auto_signals(headers.pairs(), sender, return_path, message.get_content_type(), subject)
    message_id = header_message_id(raw)  # the same value the deduplication uses
    return ParsedMessage(
        message_id=_clean(message_id) if message_id else None,
        sender=sender,
        reply_to=_first(_addresses(headers, "reply-to", defects)),
        return_path=return_path,
        to=_addresses(headers, "to", defects),
        cc=_addresses(headers, "cc", defects),
        subject=subject,
        date=_date(headers.text("date"), parser, defects),
        text=text,
        text_from_html=from_html,
        language_hint=_clean(language) if language else None,
        attachments=tuple(walk.attachments),
        defects=_capped(defects),
        auto_signals=signals,
        in_reply_to=_clean(in_reply_to) if in_reply_to else None,
        references=_references(headers.text("references")),
    )


def _header_defects(headers: _Headers, parser: mailparser.MailParser | None) -> list[str]:
    """Missing and repeated header fields, and mail-parser's findings on the Date header."""
    found = [("no %s header" % name) for name in ("From", "Date") if headers.count(name.lower()) == 0]
    for name in _SINGLE_HEADERS:
        if headers.count(name) > 1:
            found.append("%d %s headers; the first is used" % (headers.count(name), name.title()))
    for item in parser.date_header_defects if parser else ():
        if item.get("header") == "date" and item.get("occurrence") == 0:
            found.append("Date header: %s" % item.get("reason"))
    return found


def _addresses(headers: _Headers, name: str, defects: list[str]) -> tuple[Address, ...]:
    """The addresses of the first ``name`` header.

    The header is decoded here first (8-bit bytes) and then handed to
    mail-parser's address parser, which recovers what the standard library
    gets wrong and decodes display names in their lexical context.
    """
    text = headers.text(name, defects, words=False)
    if text is None:
        return ()
    findings: list[dict[str, object]] = []
    result = []
    for display, address in get_addresses(text, defects=findings, decode_names=True):
        if address:
            display = _clip(_clean(str(display)).strip(), MAX_HEADER_CHARS, name.title() + " name", defects)
            result.append(Address(address=_clean(str(address)).strip().lower()[:320], name=display))
    defects.extend("%s header: %s" % (name.title(), item.get("reason")) for item in findings)
    if not result and name == "from":
        defects.append("From header holds no usable address")
        name_only = _decode_words(text, defects, "From header").strip()
        result.append(Address(address="", name=_clip(_clean(name_only), MAX_HEADER_CHARS, "From name", defects)))
    return tuple(result)


def _first(addresses: tuple[Address, ...]) -> Address | None:
    return addresses[0] if addresses else None


def _return_path(value: str | None) -> str | None:
    """The Return-Path address, ``""`` for ``<>``, None when absent."""
    if value is None:
        return None
    match = re.search(r"<([^<>]*)>", value)
    return _clean((match.group(1) if match else value).strip().lower()[:320])


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
    ids = [_clean(i[:998]) for i in ids]
    return tuple(ids if len(ids) <= 100 else [ids[0], *ids[-99:]])


def _walk(message: Message) -> _Walk:
    """Sort every part into body text or attachment, depth first, in order.

    Text parts that are neither inside an attachment nor marked as one are
    body text; an attached message (``message/rfc822``) is one attachment,
    and its own body text is added to the text after the message's own.
    """
    walk = _Walk()
    # (part, scope, inside an attachment container, where attachments count)
    stack: list[tuple[Message, int, bool, bool]] = [(message, 0, False, True)]
    number = 0
    while stack:
        part, scope, inside, listed = stack.pop()
        number += 1
        where = "message" if number == 1 else "part %d (%s)" % (number, part.get_content_type())
        try:
            _visit(part, scope, inside, listed, where, walk, stack)
        except Exception as exc:  # one unreadable part must not cost the rest of the message
            log.warning("a MIME part could not be read (%s)", type(exc).__name__)
            walk.defects.append("%s could not be read (%s)" % (where, type(exc).__name__))
        walk.defects.extend("%s: %s" % (where, _describe(d)) for d in part.defects)
    return walk


def _visit(part: Message, scope: int, inside: bool, listed: bool, where: str, walk: _Walk,
           stack: list[tuple[Message, int, bool, bool]]) -> None:  # fmt: skip
    """Handle one part; push its children on ``stack``."""
    ctype = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype.startswith("message/"):
            if listed:
                walk.attachments.append(_attachment(part, _flatten(part, walk.defects, where), where, walk.defects))
            if ctype in ("message/rfc822", "message/global"):
                walk.scopes.append(_Scope())
                stack.extend((c, len(walk.scopes) - 1, False, False) for c in reversed(children))
            return
        inside = inside or disposition == "attachment"
        stack.extend((c, scope, inside, listed) for c in reversed(children))
        return
    if ctype.startswith("multipart/"):  # no boundary, no parts: show what there is as text
        ctype = "text/plain"
    data = _payload_bytes(part, walk.defects, where)
    named = bool(part.get_param("name") or part.get_param("filename", header="content-disposition"))
    body = ctype in _BODY_TYPES and not inside and disposition != "attachment" and (not named or disposition == "inline")
    if body:
        text = _decode_bytes(data, part.get_content_charset(), walk.defects, where)
        if ctype == "text/html":
            walk.scopes[scope].html.append(text)
        else:
            if str(part.get_param("format") or "").lower() == "flowed":
                text = _unflow(text, str(part.get_param("delsp") or "").lower() == "yes")
            text, files = _extract_uuencoded(text, walk.defects, where)
            walk.scopes[scope].plain.append(text)
            if listed:
                walk.attachments.extend(files)
    if listed and (not body or named):
        walk.attachments.append(_attachment(part, data, where, walk.defects))


def _attachment(part: Message, data: bytes, where: str, defects: list[str]) -> Attachment:
    """Metadata of one attachment; winmail.dat is always application/ms-tnef."""
    filename = _filename(part, defects, where)
    ctype = _clean(part.get_content_type())
    if ctype in _TNEF_TYPES or filename.lower() == "winmail.dat":
        ctype, filename = "application/ms-tnef", filename or "winmail.dat"
    return Attachment(filename=filename, content_type=ctype, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _text(walk: _Walk, defects: list[str]) -> tuple[str, bool]:
    """Join the body text of every scope; HTML only where a scope has no plain text."""
    pieces: list[str] = []
    from_html = False
    for scope in walk.scopes:
        plain = "\n\n".join(p.strip("\r\n") for p in scope.plain)
        if plain.strip() or not scope.html:
            pieces.append(plain)
            continue
        for html in scope.html:
            text, truncated = convert_html(html)
            if truncated:
                defects.append("HTML body too long; only its start was converted to text")
            pieces.append(text)
        from_html = True
    text = "\n\n".join(p for p in pieces if p.strip()).replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        defects.append("NUL characters in the text were replaced")
    text = _clean(text)
    if len(text) > MAX_TEXT_CHARS:
        defects.append("text cut to %d of %d characters" % (MAX_TEXT_CHARS, len(text)))
        text = text[:MAX_TEXT_CHARS]
    return text, from_html


def _capped(defects: list[str]) -> tuple[str, ...]:
    """Unique defects in order of finding, at most :data:`MAX_DEFECTS` of them."""
    unique = list(dict.fromkeys(_clean(d[:500]) for d in defects))
    if len(unique) > MAX_DEFECTS:
        unique = [*unique[: MAX_DEFECTS - 1], "and %d more defects" % (len(unique) - MAX_DEFECTS + 1)]
    return tuple(unique)


# Decoding helpers: bytes, header fields and payloads to text, never losing a byte silently.

_UNKNOWN_CHARSETS = frozenset({"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", "8bit"})
_CHARSET_ALIASES = {"iso-8859-8-i": "iso-8859-8", "ks_c_5601-1987": "cp949", "x-mac-roman": "mac_roman", "windows-874": "cp874"}
_REFUSED_CODECS = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
_KNOWN_CTE = frozenset({"7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "uuencode", "x-uue", "uue"})
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([qQbB])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATES = re.compile("[\ud800-\udfff]")
_UU_BEGIN = re.compile(r"^begin[ \t]+[0-7]{3,4}[ \t]+(\S[^\r\n]*?)[ \t]*\r?$", re.MULTILINE)
_UU_END = re.compile(r"^end[ \t]*\r?$", re.MULTILINE)
_MIME_TYPES = mimetypes.MimeTypes()  # the built-in table only, not the host's, so results are the same everywhere


class _RawPolicy(Compat32):
    """compat32 that writes header fields back as they came, without refolding."""

    def fold_binary(self, name: str, value: str) -> bytes:
        return ("%s: %s%s" % (name, value, self.linesep)).encode("utf-8", "surrogateescape")


_RAW_POLICY = _RawPolicy()


class _Headers:
    """The header fields of one message as they came, decoded on demand."""

    def __init__(self, message: Message) -> None:
        self._fields = [(str(n), v if isinstance(v, str) else str(v)) for n, v in message.raw_items()]
        self._index: dict[str, list[str]] = {}
        for name, value in self._fields:
            self._index.setdefault(name.strip().lower(), []).append(value)

    def count(self, name: str) -> int:
        """How many fields are called ``name`` (lower-case)."""
        return len(self._index.get(name, ()))

    def text(self, name: str, defects: list[str] | None = None, words: bool = True) -> str | None:
        """The first ``name`` field unfolded and decoded (8-bit bytes, and encoded words if ``words``), or None."""
        values = self._index.get(name)
        if not values:
            return None
        where = "%s header" % name.title()
        text = _unfold(_raw_text(values[0], defects, where))
        return _clean(_decode_words(text, defects, where) if words else text).strip()

    def pairs(self) -> list[tuple[str, str]]:
        """Every field as ``(name, unfolded value)``, for :func:`auto_signals`."""
        return [(name, _unfold(_raw_text(value, None, name))) for name, value in self._fields]


def _codec(label: str) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or unfit."""
    label = _CHARSET_ALIASES.get(label, label)
    if label in _UNKNOWN_CHARSETS:
        return None
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return None if name in _REFUSED_CODECS else name


def _decode_bytes(data: bytes, charset: str | None, defects: list[str] | None, where: str) -> str:
    """Decode with the declared charset, else UTF-8, else Windows-1252 with replacement characters.

    Every fallback adds a defect naming ``where``; no byte is dropped.
    """
    label = (charset or "").strip().strip("\"'").lower()
    codec = _codec(label) if label else None
    problem = None
    if codec is not None:
        try:
            text = data.decode(codec)
            text.encode("utf-8")  # some codecs yield lone surrogates: not text
            return text
        except (UnicodeError, LookupError, ValueError, TypeError):
            problem = "bytes are not valid %s" % label[:40]
    elif label:
        problem = "unknown charset %r" % label[:40]
    elif data.isascii():
        return data.decode("ascii")
    used = "UTF-8"
    try:
        if codec == "utf-8":  # already failed above
            raise UnicodeDecodeError("utf-8", data, 0, 0, "")
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, used = data.decode("cp1252", "replace"), "Windows-1252"
        problem = problem or "8-bit bytes without a charset"
    if problem and defects is not None:
        defects.append("%s: %s; read as %s" % (where, problem, used))
    return text


def _raw_text(value: str, defects: list[str] | None, where: str) -> str:
    """A header value as the parser keeps it (8-bit bytes as surrogates) to text."""
    if value.isascii():
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _clean(value)
    return _decode_bytes(data, None, defects, where)


def _unfold(value: str) -> str:
    """RFC 5322 unfolding; stray line breaks become spaces."""
    return _FOLD.sub("", value).replace("\r", " ").replace("\n", " ")


def _decode_words(text: str, defects: list[str] | None, where: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words of one charset are decoded together.

    Joining first matters: mailers split a UTF-8 character over two words.
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[bytes] = []
    charset = ""
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos : match.start()]
        word_charset = match.group(1).lower()
        if pending and (gap.strip() or word_charset != charset):
            out.append(_decode_bytes(b"".join(pending), charset, defects, where))
            pending = []
        if gap.strip() or (gap and pos == 0):  # white space between two encoded words is dropped
            out.append(gap)
        data = match.group(3).encode("utf-8", "surrogateescape")
        if match.group(2) in "qQ":
            data = binascii.a2b_qp(data, header=True)
        else:
            data = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
            data = base64.b64decode(data[: len(data) - (len(data) % 4 == 1)] + b"==")
        pending.append(data)
        charset, pos = word_charset, match.end()
    if pending:
        out.append(_decode_bytes(b"".join(pending), charset, defects, where))
    out.append(text[pos:])
    return "".join(out)


def _clean(text: str) -> str:
    """``text`` safe for UTF-8 and JSON stores: NUL and lone surrogates become U+FFFD."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATES.sub("\ufffd", text)
    return text


def _clip(text: str, limit: int, what: str, defects: list[str]) -> str:
    """``text`` cut to ``limit`` characters, with a defect when cut."""
    if len(text) <= limit:
        return text
    defects.append("%s cut to %d characters" % (what, limit))
    return text[:limit]


def _describe(defect: MessageDefect) -> str:
    """A stdlib parser defect in words."""
    doc = (type(defect).__doc__ or "").strip().splitlines()
    return "%s (%s)" % (type(defect).__name__, doc[0]) if doc else type(defect).__name__


def _payload_bytes(part: Message, defects: list[str], where: str) -> bytes:
    """The decoded payload of a leaf part (base64, quoted-printable, uuencode undone)."""
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte and cte not in _KNOWN_CTE:
        defects.append("%s: unknown Content-Transfer-Encoding %r; payload kept as it is" % (where, cte[:40]))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _flatten(part: Message, defects: list[str], where: str) -> bytes:
    """The bytes of an attached message (``message/*``), header fields as they came."""
    buffer = io.BytesIO()
    try:
        for child in part.get_payload():
            if isinstance(child, Message):
                BytesGenerator(buffer, mangle_from_=False, policy=_RAW_POLICY).flatten(child)
    except Exception as exc:
        defects.append("%s: attached message could not be written out (%s)" % (where, type(exc).__name__))
    return buffer.getvalue()


def _filename(part: Message, defects: list[str], where: str) -> str:
    """The decoded file name (RFC 2231, encoded words, 8-bit bytes), or ""."""
    try:
        name = part.get_filename()
    except Exception:
        defects.append("%s: file name unreadable" % where)
        return ""
    if not name:
        return ""
    name = _decode_words(_unfold(_raw_text(str(name), defects, where + " file name")), defects, where + " file name")
    if "\ufffd" in name:
        defects.append("%s: file name could not be fully decoded" % where)
    return _clean(" ".join(name.split())[:255])


def _extract_uuencoded(text: str, defects: list[str], where: str) -> tuple[str, list[Attachment]]:
    """Take uuencoded files (``begin 644 name`` ... ``end``) out of a text part."""
    if "begin" not in text:
        return text, []
    kept: list[str] = []
    files: list[Attachment] = []
    pos = 0
    while (begin := _UU_BEGIN.search(text, pos)) is not None:
        end = _UU_END.search(text, begin.end())
        if end is None:
            defects.append("%s: uuencoded block without an end line" % where)
            break
        data = _uudecode(text[begin.end() : end.start()], defects, where)
        name = _clean(begin.group(1)[:255])
        ctype = _MIME_TYPES.guess_type(name)[0] or "application/octet-stream"
        files.append(Attachment(filename=name, content_type=ctype, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
        kept.append(text[pos : begin.start()])
        pos = end.end()
    kept.append(text[pos:])
    return "\n\n".join(k.strip("\r\n") for k in kept if k.strip()), files


def _unflow(text: str, delsp: bool) -> str:
    """Join the soft line breaks of ``format=flowed`` text (RFC 3676)."""
    lines: list[tuple[int, list[str]]] = []  # (quote depth, pieces of one logical line)
    soft = False
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth + 1 :] if line[depth : depth + 1] == " " else line[depth:]
        joins = soft and lines[-1][0] == depth
        soft = content.endswith(" ") and content != "-- "
        content = content[:-1] if soft and delsp else content
        if joins:
            lines[-1][1].append(content)
        else:
            lines.append((depth, [content]))
    return "\n".join(">" * depth + " " * (depth > 0) + "".join(pieces) for depth, pieces in lines)


def _uudecode(block: str, defects: list[str], where: str) -> bytes:
    """Decode the lines of one uuencoded block, tolerating sloppy encoders."""
    out = bytearray()
    bad = 0
    for line in block.splitlines():
        data = line.rstrip().encode("latin-1", "replace")
        if not data:
            continue
        try:
            out += binascii.a2b_uu(data)
        except binascii.Error:
            try:  # some encoders pad lines wrongly; the length byte is right
                out += binascii.a2b_uu(data[: (((data[0] - 32) & 63) * 4 + 5) // 3])
            except binascii.Error:
                bad += 1
    if bad:
        defects.append("%s: %d uuencoded lines could not be decoded" % (where, bad))
    return bytes(out)
