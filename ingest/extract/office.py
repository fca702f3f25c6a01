"""Text from DOCX and ODT documents: their XML read from the zip, with the zip checked for bombs first.

Both are read with a small linear scan of the XML, not an XML parser: the
text is in a handful of elements (``w:t`` and ``w:p`` in DOCX, ``text:p``
and ``text:h`` in ODT), and no entity, DTD or external reference is
followed.
"""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

from ingest.extract.limits import Limits
from ingest.extract.result import Extraction, ExtractionError

__all__ = ["read_docx", "read_odt"]

_DOCX_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml")
_DOCX_TOKENS = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>|<w:tab\b[^>]*/>|<w:(?:br|cr)\b[^>]*/>|</w:p>")
_ODT_TOKENS = re.compile(r"<text:s(?:\s+text:c=\"(\d+)\")?\s*/>|<text:tab\b[^>]*/>|<text:line-break\b[^>]*/>|</text:(?:p|h)>|<[^>]*>|([^<]+)")


def _members(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The zip, refused when it unpacks to more than the limits allow."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ExtractionError("the document is not a readable zip file (%s)" % type(exc).__name__) from exc
    total = sum(info.file_size for info in infos)
    if total > limits.max_unpacked:
        raise ExtractionError("the document unpacks to %d bytes (limit %d): a zip bomb?" % (total, limits.max_unpacked))
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ExtractionError("a part of the document is compressed %d times (limit %d): a zip bomb?" % (info.file_size // max(info.compress_size, 1), limits.max_ratio))
    if any(info.flag_bits & 0x1 for info in infos):
        raise ExtractionError("the document is encrypted with a password")
    return archive


def _read(archive: zipfile.ZipFile, name: str, limits: Limits) -> str:
    try:
        with archive.open(name) as member:
            raw = member.read(limits.max_unpacked + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ExtractionError("a part of the document cannot be unpacked (%s)" % type(exc).__name__) from exc
    if len(raw) > limits.max_unpacked:
        raise ExtractionError("a part of the document unpacks to more than %d bytes" % limits.max_unpacked)
    return raw.decode("utf-8", "replace")


def read_docx(data: bytes, limits: Limits, deadline: float) -> Extraction:
    """The text of a Word document: body first, then headers, footers and notes."""
    archive = _members(data, limits)
    names = sorted((n for n in archive.namelist() if _DOCX_PARTS.fullmatch(n)), key=lambda n: (not n.startswith("word/document"), n))
    if "word/document.xml" not in names:
        raise ExtractionError("the document has no word/document.xml: not a DOCX file")
    pieces: list[str] = []
    for name in names:
        for match in _DOCX_TOKENS.finditer(_read(archive, name, limits)):
            token = match.group(0)
            if match.group(1) is not None:
                pieces.append(unescape(match.group(1)))
            elif token.startswith("<w:tab"):
                pieces.append("\t")
            else:
                pieces.append("\n")
        pieces.append("\n")
    return Extraction(_tidy("".join(pieces)))


def read_odt(data: bytes, limits: Limits, deadline: float) -> Extraction:
    """The text of an OpenDocument text file (content.xml)."""
    archive = _members(data, limits)
    if "content.xml" not in archive.namelist():
        raise ExtractionError("the document has no content.xml: not an ODT file")
    xml = _read(archive, "content.xml", limits)
    start = xml.find("<office:body")
    pieces: list[str] = []
    for match in _ODT_TOKENS.finditer(xml, max(start, 0)):
        token = match.group(0)
        if match.group(2) is not None:
            pieces.append(unescape(match.group(2)))
        elif token.startswith("<text:s"):
            pieces.append(" " * min(int(match.group(1) or 1), 100))
        elif token.startswith("<text:tab"):
            pieces.append("\t")
        elif token.startswith(("<text:line-break", "</text:")):
            pieces.append("\n")
    return Extraction(_tidy("".join(pieces)))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
