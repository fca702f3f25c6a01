"""The reader of each kind of attachment: ``(data, limits, deadline) -> Extraction``, raising ExtractionError."""

from __future__ import annotations

from collections.abc import Callable

from ingest.extract.limits import Limits
from ingest.extract.msg import read_msg
from ingest.extract.ocr import ocr_image
from ingest.extract.office import read_docx, read_odt
from ingest.extract.pdf import read_pdf
from ingest.extract.result import Extraction
from ingest.extract.rtf import read_rtf

__all__ = ["READERS", "Reader"]

Reader = Callable[[bytes, Limits, float], Extraction]

READERS: dict[str, Reader] = {
    "pdf": read_pdf,
    "docx": read_docx,
    "odt": read_odt,
    "rtf": read_rtf,
    "msg": read_msg,
    "image": ocr_image,
}
