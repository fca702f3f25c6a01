"""The limits on attachment text extraction: beyond any of them an attachment gives a defect, never a stuck pass."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits", "DEFAULT_LIMITS"]


@dataclass(frozen=True, slots=True)
class Limits:
    """How far extraction goes for one attachment, and for one message."""

    max_bytes: int = 25 * 1024 * 1024  # attachments larger than this are not read
    max_pages: int = 50  # PDF pages whose text is read
    max_ocr_pages: int = 5  # scanned PDF pages read by OCR
    max_pixels: int = 40_000_000  # an image with more pixels is not read (a decompression bomb)
    max_unpacked: int = 100 * 1024 * 1024  # bytes a DOCX/ODT may unpack to
    max_ratio: int = 200  # unpacked / packed size of one member (a zip bomb)
    max_text_chars: int = 20_000  # the text kept per attachment
    timeout: float = 90.0  # seconds for one attachment, OCR included
    message_budget: float = 240.0  # seconds for all attachments of one message
    max_attachments: int = 10  # attachments read per message
    memory_bytes: int = 2 * 1024 * 1024 * 1024  # address space of the extraction process
    ocr_language: str = "nld"


DEFAULT_LIMITS = Limits()
