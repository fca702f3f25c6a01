"""Bytes to text as a mail client would read them, never throwing away a whole part.

A declared charset is read with the superset codec that mailers really use
(GB2312 labels on GBK bytes, Big5 with HKSCS, Shift_JIS as Windows' cp932,
ISO-2022-JP with Microsoft's extensions, ISO-8859-x labels on Windows-125x
bytes). Where the declared charset fails, the decision is made per line and
then per run of bytes: a UTF-8 part with one stray Latin-1 byte keeps every
other character, and only the stray byte is read as Windows-1252. Bytes
without a charset are read as UTF-8, else in the charset the message uses
elsewhere (``hint``), else, for lines that cannot be Western text, in the
charset whose script they decode to (:mod:`ingest.scripts`), else as
Windows-1252. Every fallback adds one
defect naming ``where``; no byte is dropped silently.
"""

from __future__ import annotations

import codecs
import re

from ingest.scripts import guess_codec, looks_western

__all__ = ["codec_for", "decode_bytes", "decode_iso2022jp"]

_UNKNOWN = frozenset({"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", "8bit", "us-ascii", "ascii", "ansi_x3.4-1968"})
_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "x-mac-roman": "mac_roman",
    "windows-874": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "euc-jp": "euc_jis_2004",
    "iso-2022-jp": "iso2022_jp",
}
#: ISO-8859 codecs and the Windows code page that fills their C1 range (0x80-0x9f) with letters.
_WINDOWS_SUPERSET = {
    "iso8859-1": "cp1252",
    "iso8859-2": "cp1250",
    "iso8859-5": "cp1251",
    "iso8859-7": "cp1253",
    "iso8859-8": "cp1255",
    "iso8859-9": "cp1254",
    "iso8859-13": "cp1257",
    "ascii": "cp1252",
}
_REFUSED = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "utf-7"})
_C1 = re.compile(rb"[\x80-\x9f]")
#: Codecs whose bytes are not ASCII where the text is: never taken for ASCII, never split into lines by bytes.
_NOT_ASCII_BASED = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "cp037", "cp500", "cp1140"})
_LINES = re.compile(rb"[^\n]*\n|[^\n]+")
_ESCAPE = re.compile(rb"\x1b(\$\(?[@BDOPQ]|\$[AB]|\([BJHI])")


def codec_for(label: str | None, data: bytes = b"") -> str | None:
    """The Python codec for a MIME charset label, the superset one mail needs, or None when unknown or unfit."""
    label = (label or "").strip().strip("\"'").lower()
    if not label:
        return None
    label = _ALIASES.get(label, label)
    if label in _UNKNOWN:
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    name = info.name
    if not getattr(info, "_is_text_encoding", True):  # zlib, base64, rot13: not text encodings
        return None
    if name in _REFUSED:
        return None
    superset = _WINDOWS_SUPERSET.get(name)
    if superset and _C1.search(data):
        return superset
    return name


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None, where: str, hint: str | None = None) -> str:
    """``data`` as text: the declared ``charset``, else per line and per run of bytes (see the module docstring)."""
    label = (charset or "").strip().strip("\"'").lower()
    codec = codec_for(label, data)
    if data.isascii() and codec not in _NOT_ASCII_BASED and not (codec or "").startswith("iso2022"):
        return data.decode("ascii")
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            return text
        if codec in _NOT_ASCII_BASED:  # lines cannot be told apart by their bytes
            text, used = data.decode(codec, "replace"), "read with replacement characters"
        else:
            text, used = _mixed(data, codec, hint)
        _note(defects, "%s: bytes are not valid %s; %s" % (where, label[:40], used))
        return text
    problem = "8-bit bytes without a charset" if label in ("", "us-ascii", "ascii", "ansi_x3.4-1968") else "unknown charset %r" % label[:40]
    text = _strict(data, "utf-8")
    if text is not None:
        if label:
            _note(defects, "%s: %s; read as UTF-8" % (where, problem))
        return text
    text, used = _mixed(data, None, hint)
    _note(defects, "%s: %s; %s" % (where, problem, used))
    return text


def _note(defects: list[str] | None, defect: str) -> None:
    if defects is not None:
        defects.append(defect)


def _strict(data: bytes, codec: str) -> str | None:
    """``data`` decoded strictly, or None (also for codecs that yield lone surrogates)."""
    try:
        text = decode_iso2022jp(data) if codec == "iso2022_jp" else data.decode(codec)
        text.encode("utf-8")
        return text
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None


def _mixed(data: bytes, codec: str | None, hint: str | None) -> tuple[str, str]:
    """Decode line by line: each line in the first codec that reads it whole, else per run of bytes.

    Returns the text and a phrase saying what was used, for the defect.
    """
    hinted = codec_for(hint, data) if hint else None
    order = [c for c in dict.fromkeys((codec, "utf-8", hinted)) if c]
    used: dict[str, int] = {}
    out: list[str] = []
    for match in _LINES.finditer(data):
        line = match.group(0)
        if line.isascii():
            out.append(line.decode("ascii"))
            continue
        for candidate in order:
            text = _strict(line, candidate)
            if text is not None:
                break
        else:
            guessed = None if looks_western(line) else guess_codec(line)
            if guessed is not None:
                candidate, text = guessed, line.decode(guessed)
            else:
                candidate, text = _per_run(line, codec or "utf-8", hinted)
        out.append(text)
        used[candidate] = used.get(candidate, 0) + 1
    parts = ["%d line%s as %s" % (n, "" if n == 1 else "s", _NAMES.get(c, c)) for c, n in used.items()]
    return "".join(out), "read " + ", ".join(parts) if parts else "read as it is"


_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "mixed": "UTF-8 with Windows-1252 for stray bytes"}


def _per_run(line: bytes, codec: str, hinted: str | None) -> tuple[str, str]:
    """One line that no single codec reads: the good runs in ``codec``, each bad run guessed on its own."""
    if codec == "iso2022_jp":
        return codec, line.decode(codec, "replace")
    pieces: list[str] = []
    bad = bytearray()
    pos = 0
    while pos < len(line):
        try:
            text = line[pos:].decode(codec)
            stop = len(line)
        except UnicodeDecodeError as exc:
            text = line[pos : pos + exc.start].decode(codec, "replace")
            stop = pos + exc.start
        if text and bad:
            pieces.append(_guess(bytes(bad), hinted))
            bad.clear()
        pieces.append(text)
        if stop < len(line):
            bad.append(line[stop])
        pos = stop + 1
    if bad:
        pieces.append(_guess(bytes(bad), hinted))
    return ("mixed" if codec == "utf-8" else codec + " with Windows-1252 for stray bytes"), "".join(pieces)


def _guess(run: bytes, hinted: str | None) -> str:
    """A run of bytes that is not UTF-8: in the hinted charset if it reads it, else as Windows-1252."""
    if hinted:
        text = _strict(run, hinted)
        if text is not None:
            return text
    return run.decode("cp1252", "replace")


def decode_iso2022jp(data: bytes) -> str:
    """ISO-2022-JP with Microsoft's extensions (CP50220/CP50221): NEC and IBM rows, half-width katakana.

    Each JIS X 0208 pair is turned into its Shift_JIS bytes and read as
    cp932, which holds the extensions Windows mailers write in that range.
    """
    try:
        return data.decode("iso2022_jp")
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    mode = b"(B"
    pos = 0
    for match in [*_ESCAPE.finditer(data), None]:
        end = match.start() if match else len(data)
        chunk = data[pos:end]
        if chunk:
            out.append(_jis_chunk(chunk, mode))
        if match is None:
            break
        mode, pos = match.group(1), match.end()
    return "".join(out)


def _jis_chunk(chunk: bytes, mode: bytes) -> str:
    if mode in (b"(B", b"(J", b"(H"):
        return chunk.decode("ascii")  # raises on 8-bit bytes: not ISO-2022-JP
    if mode == b"(I":
        return bytes(b + 0x80 if 0x21 <= b <= 0x5F else b for b in chunk).decode("cp932")
    sjis = bytearray()
    text: list[str] = []
    for i in range(0, len(chunk) - 1, 2):
        j1, j2 = chunk[i], chunk[i + 1]
        if j1 in (0x0A, 0x0D):
            text.append(sjis.decode("cp932") + chr(j1))
            sjis.clear()
            continue
        s1 = (j1 + 1) // 2 + (0x70 if j1 <= 0x5E else 0xB0)
        s2 = j2 + (0x1F if j1 % 2 else 0x7E)
        if j1 % 2 and s2 >= 0x7F:
            s2 += 1
        sjis += bytes((s1, s2))
    text.append(sjis.decode("cp932"))
    return "".join(text)
