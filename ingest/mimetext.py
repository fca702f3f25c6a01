"""Bytes, header fields and MIME payloads to text, never losing a byte silently.

The decoding room of :mod:`ingest.parse`: header fields as they came
(:class:`Headers`, decoded from their raw bytes through
:mod:`ingest.encodedwords` and :mod:`ingest.charsets`), payload bytes, file names, uuencoded files inside text
parts, ``format=flowed`` text and attached messages written back as bytes.
Every function is pure apart from appending to the ``defects`` list it is
given; ``where`` names the header or part in those defects.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import mimetypes
import re
from email.errors import MessageDefect
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32

from ingest.charsets import decode_bytes
from ingest.encodedwords import decode_header_bytes, decode_words, header_bytes
from ingest.records import Attachment

__all__ = [
    "Headers",
    "clean",
    "clip",
    "decode_bytes",
    "decode_words",
    "describe",
    "extract_uuencoded",
    "flatten",
    "part_filename",
    "payload_bytes",
    "unflow",
]

_KNOWN_CTE = frozenset({"7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "uuencode", "x-uue", "uue"})
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


class Headers:
    """The header fields of one message as they came, decoded on demand."""

    def __init__(self, message: Message, hint: str | None = None) -> None:
        self.hint = hint  # the charset the message declares elsewhere, for 8-bit bytes without one
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
        data = header_bytes(_unfold(values[0]))
        return clean(decode_header_bytes(data, defects, where, self.hint, words)).strip()

    def raw(self, name: str) -> list[str]:
        """Every ``name`` field unfolded, 8-bit bytes kept as surrogates (see :func:`~ingest.encodedwords.header_bytes`)."""
        return [_unfold(value) for value in self._index.get(name, ())]

    def pairs(self) -> list[tuple[str, str]]:
        """Every field as ``(name, unfolded value)``, for :func:`~ingest.autosignals.auto_signals`."""
        return [(name, _unfold(_raw_text(value, None, name, self.hint))) for name, value in self._fields]


def _raw_text(value: str, defects: list[str] | None, where: str, hint: str | None = None) -> str:
    """A header value as the parser keeps it (8-bit bytes as surrogates) to text; no encoded words decoded."""
    if value.isascii():
        return value
    return decode_bytes(header_bytes(value), None, defects, where, hint)


def _unfold(value: str) -> str:
    """RFC 5322 unfolding; stray line breaks become spaces."""
    return _FOLD.sub("", value).replace("\r", " ").replace("\n", " ")


def clean(text: str) -> str:
    """``text`` safe for UTF-8 and JSON stores: NUL and lone surrogates become U+FFFD."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATES.sub("\ufffd", text)
    return text


def clip(text: str, limit: int, what: str, defects: list[str]) -> str:
    """``text`` cut to ``limit`` characters, with a defect when cut."""
    if len(text) <= limit:
        return text
    defects.append("%s cut to %d characters" % (what, limit))
    return text[:limit]


def describe(defect: MessageDefect) -> str:
    """A stdlib parser defect in words."""
    doc = (type(defect).__doc__ or "").strip().splitlines()
    return "%s (%s)" % (type(defect).__name__, doc[0]) if doc else type(defect).__name__


def payload_bytes(part: Message, defects: list[str], where: str) -> bytes:
    """The decoded payload of a leaf part (base64, quoted-printable, uuencode undone)."""
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte and cte not in _KNOWN_CTE:
        defects.append("%s: unknown Content-Transfer-Encoding %r; payload kept as it is" % (where, cte[:40]))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def flatten(part: Message, defects: list[str], where: str) -> bytes:
    """The bytes of an attached message (``message/*``), header fields as they came."""
    buffer = io.BytesIO()
    try:
        for child in part.get_payload():
            if isinstance(child, Message):
                BytesGenerator(buffer, mangle_from_=False, policy=_RAW_POLICY).flatten(child)
    except Exception as exc:
        defects.append("%s: attached message could not be written out (%s)" % (where, type(exc).__name__))
    return buffer.getvalue()


def part_filename(part: Message, defects: list[str], where: str, hint: str | None = None) -> str:
    """The decoded file name (RFC 2231, encoded words, 8-bit bytes), or ""."""
    try:
        name = part.get_filename()
    except Exception:
        defects.append("%s: file name unreadable" % where)
        return ""
    if not name:
        return ""
    name = str(name)
    if "\ufffd" in name:  # the standard library replaced 8-bit bytes: read the name from the raw field
        name = _raw_param(part, "content-disposition", "filename") or _raw_param(part, "content-type", "name") or name
    name = decode_header_bytes(header_bytes(_unfold(name)), defects, where + " file name", hint)
    if "\ufffd" in name:
        defects.append("%s: file name could not be fully decoded" % where)
    return clean(" ".join(name.split())[:255])


def _raw_param(part: Message, header: str, param: str) -> str | None:
    """A parameter of a header field as it came (8-bit bytes kept as surrogates), without RFC 2231 handling."""
    for name, value in part.raw_items():
        if name.lower() == header and isinstance(value, str):
            match = re.search(r'(?:^|;)\s*%s\s*=\s*(?:"([^"]*)"|([^;\s]+))' % param, _unfold(value), re.IGNORECASE)
            if match:
                return match.group(1) if match.group(1) is not None else match.group(2)
    return None


def extract_uuencoded(text: str, defects: list[str], where: str) -> tuple[str, list[Attachment]]:
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
        name = clean(begin.group(1)[:255])
        ctype = _MIME_TYPES.guess_type(name)[0] or "application/octet-stream"
        files.append(Attachment(filename=name, content_type=ctype, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
        kept.append(text[pos : begin.start()])
        pos = end.end()
    kept.append(text[pos:])
    return "\n\n".join(k.strip("\r\n") for k in kept if k.strip()), files


def unflow(text: str, delsp: bool) -> str:
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
