"""Which message is this? Two keys from the bytes alone, never failing.

A mail is known by its content, not by its Message-ID: a web form may give
every mail the same Message-ID, a gateway may make one up. Two copies of one
mail still differ on the way in: other ``Received``, ``Delivered-To``,
``Return-Path`` and ``X-`` headers per mailbox, CRLF or LF, trailing
whitespace, header folding, and a server may re-serve a mail with a new UID
after re-encoding it (other MIME boundaries, base64 where it was
quoted-printable, encoded words where the subject was raw UTF-8).

- :attr:`Identity.key` (the unique key of a message): SHA-256 over the
  headers that identify a mail (From, Reply-To, To, Cc, Date, Subject,
  Message-ID; addresses as sorted addr-specs, the date as an instant, text
  decoded and without whitespace) and the body per MIME part (decoded
  payloads; text with one kind of line ending and no trailing whitespace).
  Transport headers, boundaries, transfer encodings and folding are not in it.
- :attr:`Identity.fingerprint`: SHA-256 over the From and Reply-To
  addresses, the date, the letters and digits of the body's text (of the
  HTML without its markup when there is no plain text) and the decoded bytes
  of every other part. It is only compared between mails that share a Message-ID: a
  spam filter that tags the subject in one mailbox, or a server that adds an
  HTML alternative, makes another key but the same fingerprint.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

__all__ = ["Identity", "identify", "sha256_hex", "header_message_id", "IDENTITY_VERSION", "MAX_HEADER_SCAN"]

#: Only this many leading bytes are searched for the header block.
MAX_HEADER_SCAN = 256 * 1024

#: The prefix of every key; a new normalisation gets a new version.
IDENTITY_VERSION = "c1"

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)", re.IGNORECASE | re.MULTILINE)
_ADDRESS_HEADERS = ("from", "reply-to", "to", "cc")
_TEXT_HEADERS = ("subject",)
_HTML_HIDDEN = re.compile(r"<(style|script|head|title)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")
_EMPTY_GROUP = re.compile(r"[^:@<>]*:;?")
_NOT_A_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Identity:
    """What makes a fetched mail this message (see the module docstring)."""

    key: str
    fingerprint: str
    message_id: str | None


def sha256_hex(raw: bytes) -> str:
    """Hex SHA-256 of ``raw``."""
    return hashlib.sha256(raw).hexdigest()


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID header value, unfolded and stripped, or None.

    Works on bytes without a full parse, so malformed mail cannot make it
    fail; values that are empty or hold no ``@`` and no ``<`` count as absent.
    """
    head = raw[:MAX_HEADER_SCAN]
    end = _HEADER_END.search(head)
    if end is not None:
        head = head[: end.start()]
    match = _MESSAGE_ID.search(head)
    if match is None:
        return None
    value = re.sub(rb"\r?\n[ \t]+", b" ", match.group(1)).strip()
    text = value.decode("utf-8", "replace")[:998]
    if not text or ("@" not in text and "<" not in text):
        return None
    return text


def identify(raw: bytes) -> Identity:
    """The key, fingerprint and Message-ID of ``raw``; never raises."""
    if b"\n" not in raw and b"\r" in raw:  # old Mac line endings: read as lines all the same
        raw = raw.replace(b"\r", b"\n")
    message_id = header_message_id(raw)
    try:
        key, fingerprint = _content_keys(BytesParser(policy=compat32).parsebytes(raw), message_id)
    except Exception:  # a tree the standard library cannot walk (nesting, recursion): the bytes, normalised
        flat = _normal_lines(raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        key = fingerprint = sha256_hex(b"flat\x00" + flat)
    return Identity(key=f"{IDENTITY_VERSION}:{key}", fingerprint=fingerprint, message_id=message_id)


class _Digest:
    """SHA-256 over labelled, length-prefixed fields, so no two field lists hash alike."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, label: str, value: str | bytes) -> None:
        data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        self._hash.update(b"%s\x00%d\x00" % (label.encode(), len(data)))
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _content_keys(message: Message, message_id: str | None) -> tuple[str, str]:
    key, loose = _Digest(), _Digest()
    key.add("message-id", "".join((message_id or "").split()))
    _identifying_headers(message, key)
    for name in ("from", "reply-to"):
        loose.add(name, _addresses(message.get_all(name) or ()))
    loose.add("date", _date(message.get_all("date") or ()))
    plain: list[str] = []
    markup: list[str] = []
    others: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            if part.get_content_maintype() == "message" and part is not message:
                nested = part.get_payload(0)
                if isinstance(nested, Message):  # an attached mail: its own headers count too
                    _identifying_headers(nested, key)
            continue
        ctype = part.get_content_type()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_content_maintype() in ("text", "multipart", "message"):  # a multipart left unparsed (no boundary) is text too
            text = _normal_lines(_decode(data, part.get_content_charset()))
            key.add("text", ctype)
            key.add("body", text)
            (markup if ctype == "text/html" else plain).append(text)
            continue
        digest = sha256_hex(data)
        key.add("part", ctype)
        key.add("name", _squeeze(_header_text(part.get_filename() or "")))
        key.add("data", digest)
        others.append(digest)
    text = "".join(plain) if plain else "".join(_html_text(h) for h in markup)
    loose.add("text", _NOT_A_WORD.sub("", text).casefold())
    loose.add("parts", ",".join(sorted(others)))
    return key.hexdigest(), loose.hexdigest()


def _identifying_headers(message: Message, out: _Digest) -> None:
    for name in _ADDRESS_HEADERS:
        out.add(name, _addresses(message.get_all(name) or ()))
    for name in _TEXT_HEADERS:
        out.add(name, "\x1f".join(_squeeze(_header_text(v)) for v in message.get_all(name) or ()))
    out.add("date", _date(message.get_all("date") or ()))


def _addresses(values: Iterable[object]) -> str:
    """The addr-specs of the header values, lowercased and sorted; the squeezed text when there are none."""
    texts = [_header_text(v) for v in values]
    try:
        found = {addr.strip().lower() for _, addr in getaddresses(texts) if "@" in addr}
    except Exception:  # getaddresses on hostile input
        found = set()
    if found:
        return ",".join(sorted(found))
    # no address: the text, but an empty group ("undisclosed-recipients:;", added by some servers) is as good as none
    return "\x1f".join(t for t in (_squeeze(t) for t in texts) if not _EMPTY_GROUP.fullmatch(t))


def _date(values: Iterable[object]) -> str:
    """The first Date as a POSIX instant (a naive one read as UTC), else its squeezed text."""
    for value in values:
        text = _header_text(value)
        try:
            return str(int(parsedate_to_datetime(text).timestamp()))
        except Exception:  # unparseable, out of range
            return _squeeze(text)
    return ""


def _header_text(value: object) -> str:
    """A header value with its encoded words decoded once; raw 8-bit read as UTF-8 (else Windows-1252)."""
    if not isinstance(value, (str, Header)):
        return str(value)
    try:
        chunks = decode_header(value)
    except Exception:  # a broken encoded word: the text as it stands
        return str(value)
    return "".join(chunk if isinstance(chunk, str) else _decode(chunk, charset) for chunk, charset in chunks)


def _decode(data: bytes, charset: str | None) -> str:
    if charset and charset not in ("unknown-8bit", "us-ascii", "ascii"):
        try:
            return data.decode(charset, "replace")
        except (LookupError, ValueError):  # an unknown or unusable charset label
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _normal_lines(text: str) -> str:
    """One kind of line ending, no trailing whitespace, no blank lines at either end."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _squeeze(text: str) -> str:
    """The text without any whitespace: folding, re-encoding and re-wrapping leave no trace."""
    return "".join(text.split())


def _html_text(markup: str) -> str:
    return html.unescape(_HTML_TAG.sub(" ", _HTML_HIDDEN.sub(" ", markup)))
