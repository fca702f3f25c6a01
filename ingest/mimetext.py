"""Bytes, header fields and MIME payloads to text, never losing a byte silently.

The decoding room of :mod:`ingest.parse`: charsets (the declared one, then
UTF-8, then Windows-1252 with replacement characters, with a defect for every
fallback), RFC 2047 encoded words, header fields as they came
(:class:`Headers`), payload bytes, file names, uuencoded files inside text
parts, ``format=flowed`` text and attached messages written back as bytes.
Every function is pure apart from appending to the ``defects`` list it is
given; ``where`` names the header or part in those defects.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import io
import mimetypes
import re
from email.errors import MessageDefect
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32

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


class Headers:
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
        return clean(decode_words(text, defects, where) if words else text).strip()

    def pairs(self) -> list[tuple[str, str]]:
        """Every field as ``(name, unfolded value)``, for :func:`~ingest.autosignals.auto_signals`."""
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


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None, where: str) -> str:
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
        return clean(value)
    return decode_bytes(data, None, defects, where)


def _unfold(value: str) -> str:
    """RFC 5322 unfolding; stray line breaks become spaces."""
    return _FOLD.sub("", value).replace("\r", " ").replace("\n", " ")


def decode_words(text: str, defects: list[str] | None, where: str) -> str:
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
            out.append(decode_bytes(b"".join(pending), charset, defects, where))
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
        out.append(decode_bytes(b"".join(pending), charset, defects, where))
    out.append(text[pos:])
    return "".join(out)


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


def part_filename(part: Message, defects: list[str], where: str) -> str:
    """The decoded file name (RFC 2231, encoded words, 8-bit bytes), or ""."""
    try:
        name = part.get_filename()
    except Exception:
        defects.append("%s: file name unreadable" % where)
        return ""
    if not name:
        return ""
    name = decode_words(_unfold(_raw_text(str(name), defects, where + " file name")), defects, where + " file name")
    if "\ufffd" in name:
        defects.append("%s: file name could not be fully decoded" % where)
    return clean(" ".join(name.split())[:255])


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
