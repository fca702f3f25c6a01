"""Documents for the golden corpus, written here from nothing: PDF, DOCX, ODT, RTF, Outlook .msg and letter images.

Deterministic: the same call gives the same bytes (fixed zip dates, no
timestamps), so ``make_whole.py`` can write the corpus again and get the
same files. Only the letter images need Pillow and the DejaVu fonts
(Debian's ``fonts-dejavu-core``).
"""

from __future__ import annotations

import io
import random
import zipfile
from xml.sax.saxutils import escape

__all__ = ["pdf", "docx", "odt", "rtf", "letter_image", "scanned_pdf", "msg"]

_ZIP_DATE = (2025, 5, 1, 12, 0, 0)


def _pdf_string(line: str) -> bytes:
    data = line.encode("cp1252")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf(lines: list[str], *, pages: int = 1) -> bytes:
    """A PDF with ``lines`` in Helvetica (WinAnsi: Dutch accents work) on each of ``pages`` pages."""
    content = b"BT /F1 12 Tf 72 770 Td 16 TL\n" + b"".join(_pdf_string(line) + b" Tj T*\n" for line in lines) + b"ET\n"
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"] * pages
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref))
    return out.getvalue()


def image_pdf(jpeg: bytes, width: int, height: int) -> bytes:
    """A one-page PDF that holds only a JPEG image: a scanned letter, no text layer."""
    shown = 595 * height // width  # the scan keeps its proportions, at the top of an A4 page
    content = b"q 595 0 0 %d 0 %d cm /Im1 Do Q\n" % (shown, 842 - shown)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
        % (width, height, len(jpeg))
        + jpeg
        + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    return _pdf_file(objects)


def _zip(members: list[tuple[str, str]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (name, text) in enumerate(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if (stored_first and index == 0) else zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    """A minimal Word document with one run per paragraph."""
    body = "".join('<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % escape(p) for p in paragraphs)
    return _zip(
        [
            ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
            ("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
             "<w:body>%s</w:body></w:document>" % body),
        ]
    )  # fmt: skip


def odt(paragraphs: list[str]) -> bytes:
    """A minimal OpenDocument text with one paragraph each."""
    body = "".join("<text:p>%s</text:p>" % escape(p) for p in paragraphs)
    return _zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
             'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>%s</office:text></office:body></office:document-content>' % body),
        ],
        stored_first=True,
    )  # fmt: skip


def rtf(paragraphs: list[str]) -> bytes:
    """An RTF document; characters beyond ASCII as ``\\'xx`` escapes in code page 1252."""

    def encode(text: str) -> str:
        out = []
        for ch in text:
            if ch in "\\{}":
                out.append("\\" + ch)
            elif ord(ch) < 128:
                out.append(ch)
            else:
                out.append("\\'%02x" % ch.encode("cp1252")[0])
        return "".join(out)

    body = "".join(encode(p) + "\\par\n" for p in paragraphs)
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}}\n\\f0\\fs24 " + body + "}").encode("ascii")


def letter_image(lines: list[str], *, rotate: float = 1.2, noise: int = 18, seed: int = 7, fmt: str = "JPEG") -> tuple[bytes, int, int]:
    """A photographed letter: the lines rendered in DejaVu Serif, slightly rotated, with grain."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 34)
    width, height = 1654, 120 + 56 * len(lines) + 120
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    for index, line in enumerate(lines):
        draw.text((110, 120 + 56 * index), line, fill=25, font=font)
    rng = random.Random(seed)
    pixels = page.load()
    assert pixels is not None
    for _ in range(width * height // 40):
        x, y = rng.randrange(width), rng.randrange(height)
        value = pixels[x, y]
        assert isinstance(value, int)
        pixels[x, y] = max(0, min(255, value + rng.randint(-noise * 3, noise * 3)))
    page = page.filter(ImageFilter.GaussianBlur(0.6)).rotate(rotate, resample=Image.BICUBIC, expand=True, fillcolor=235)
    out = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    page.save(out, fmt, quality=80 if fmt == "JPEG" else 50) if fmt in ("JPEG", "HEIF") else page.save(out, fmt)
    return out.getvalue(), page.size[0], page.size[1]


def scanned_pdf(lines: list[str]) -> bytes:
    """A PDF whose only page is a scan of the letter (no text layer)."""
    jpeg, width, height = letter_image(lines, rotate=0.8, noise=12, seed=11)
    return image_pdf(jpeg, width, height)


_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _cfb(streams: list[tuple[str, bytes]]) -> bytes:
    """A compound file (version 3, 512-byte sectors) with ``streams`` at the top level.

    Every stream is padded with NUL bytes to at least 4096 bytes, so all of
    them live in regular sectors and no mini stream is needed.
    """
    import struct

    padded = [(name, data + b"\x00" * max(0, 4096 - len(data))) for name, data in streams]
    entries = 1 + len(padded)
    dir_sectors = (entries * 128 + 511) // 512
    data_sectors = [(len(data) + 511) // 512 for _, data in padded]
    total = dir_sectors + sum(data_sectors)
    fat_sectors = 1
    while fat_sectors * 128 < total + fat_sectors:
        fat_sectors += 1
    fat = [_FATSECT] * fat_sectors
    first_dir = len(fat)
    fat += [first_dir + i + 1 for i in range(dir_sectors - 1)] + [_END]
    starts = []
    for count in data_sectors:
        start = len(fat)
        starts.append(start)
        fat += [start + i + 1 for i in range(count - 1)] + [_END]
    fat += [_FREE] * (fat_sectors * 128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _NOSTREAM, right, child)
            + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )  # fmt: skip

    directory = entry("Root Entry", 5, 1 if padded else _NOSTREAM, _NOSTREAM, _END, 0)
    for index, (name, data) in enumerate(padded):
        right = index + 2 if index + 1 < len(padded) else _NOSTREAM
        directory += entry(name, 2, _NOSTREAM, right, starts[index], len(data))
    directory = directory.ljust(dir_sectors * 512, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
        + struct.pack("<IIII", 0, fat_sectors, first_dir, 0)
        + struct.pack("<IIIII", 4096, _END, 0, _END, 0)
        + struct.pack("<109I", *(list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)))
    )  # fmt: skip
    body = struct.pack("<%dI" % len(fat), *fat) + directory + b"".join(data.ljust(((len(data) + 511) // 512) * 512, b"\x00") for _, data in padded)
    return header + body


def msg(subject: str, sender_name: str, sender_address: str, body: str) -> bytes:
    """An Outlook .msg with the subject, sender and plain body as UTF-16 properties."""

    def prop(tag: str, value: str) -> tuple[str, bytes]:
        return ("__substg1.0_%s001F" % tag, value.encode("utf-16-le"))

    return _cfb([prop("0037", subject), prop("0C1A", sender_name), prop("5D01", sender_address), prop("1000", body)])
