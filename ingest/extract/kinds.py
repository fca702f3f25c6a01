"""Which extractor reads an attachment: by its bytes first, then its type and name."""

from __future__ import annotations

__all__ = ["KINDS", "ISOLATED", "kind_of"]

#: Every kind of attachment whose text is read.
KINDS = ("pdf", "docx", "odt", "rtf", "html", "text", "msg", "image")
#: Kinds read in a separate process (third-party parsers, OCR); text and HTML are read in-process by linear code.
ISOLATED = frozenset({"pdf", "docx", "odt", "rtf", "msg", "image"})

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")
#: ISO base media brands of HEIF/HEIC images (iPhone photos).
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_BY_TYPE = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "text/richtext": "rtf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "application/vnd.ms-outlook": "msg",
}
_BY_SUFFIX = {
    ".pdf": "pdf", ".docx": "docx", ".odt": "odt", ".rtf": "rtf", ".html": "html", ".htm": "html",
    ".txt": "text", ".msg": "msg", ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image",
    ".tiff": "image", ".gif": "image", ".bmp": "image", ".webp": "image", ".heic": "image", ".heif": "image",
}  # fmt: skip


def kind_of(filename: str, content_type: str, head: bytes) -> str | None:
    """The kind of an attachment from its first bytes, content type and file name; None when its text is not read."""
    name = filename.lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "msg" if suffix == ".msg" or content_type == "application/vnd.ms-outlook" else None
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        if suffix in (".docx", ".odt"):
            return suffix[1:]
        found = _BY_TYPE.get(content_type)
        return found if found in ("docx", "odt") else None
    if content_type.startswith("image/"):
        return None  # claims to be an image, is none we know
    found = _BY_TYPE.get(content_type) or _BY_SUFFIX.get(suffix)
    if found in ("text", "html") or (found is None and content_type.startswith("text/")):
        return found or "text"
    return None
