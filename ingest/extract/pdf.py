"""Text from PDF: the text layer with pypdf, and pages without one (scans) by OCR of pdftoppm's rendering."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ingest.extract.limits import Limits
from ingest.extract.ocr import ocr_png_file
from ingest.extract.result import Extraction, ExtractionError

__all__ = ["read_pdf"]

#: A page that draws an image and has fewer letters than this in its text layer is taken for a scan.
_SCAN_CHARS = 20
#: Pages are rendered with this many pixels on their long side (A4 at 200 dpi), whatever size they claim.
_LONG_SIDE = "2339"


def read_pdf(data: bytes, limits: Limits, deadline: float) -> Extraction:
    """The text of a PDF; encrypted PDFs without an empty user password and broken ones give ExtractionError."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    defects: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("the PDF is encrypted with a password")
        count = len(reader.pages)
        texts = []
        pictured = []
        for number in range(min(count, limits.max_pages)):
            if time.monotonic() > deadline:
                raise ExtractionError("reading the PDF took longer than %d s" % int(limits.timeout))
            page = reader.pages[number]
            texts.append(page.extract_text() or "")
            pictured.append(_has_images(page))
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError, NotImplementedError) as exc:
        raise ExtractionError("the PDF cannot be read (%s)" % type(exc).__name__) from exc
    complete = count <= limits.max_pages
    if not complete:
        defects.append("only the first %d of %d pages were read" % (limits.max_pages, count))
    scans = [i for i, text in enumerate(texts) if pictured[i] and sum(ch.isalnum() for ch in text) < _SCAN_CHARS]
    if scans:
        ocr_pages = scans[: limits.max_ocr_pages]
        if len(scans) > len(ocr_pages):
            complete = False
            defects.append("only %d of %d scanned pages were read by OCR" % (len(ocr_pages), len(scans)))
        for number, text in zip(ocr_pages, _ocr_pages(data, ocr_pages, limits, deadline)):
            texts[number] = text
    return Extraction("\n\n".join(t.strip() for t in texts if t.strip()), complete, tuple(defects), ocr=bool(scans))


def _has_images(page: object) -> bool:
    """True when the page draws an image (XObject): a scan, or a photo of a letter."""
    try:
        resources: Any = page["/Resources"]  # type: ignore[index]
        objects: Any = resources.get("/XObject") if resources is not None else None
        return bool(objects) and any(objects[name].get("/Subtype") == "/Image" for name in objects)
    except Exception:  # a damaged resource dictionary: treat the page as a possible scan
        return True


def _ocr_pages(data: bytes, pages: list[int], limits: Limits, deadline: float) -> list[str]:
    """OCR of the given pages (0-based), rendered by pdftoppm one at a time."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise ExtractionError("the PDF has scanned pages, and pdftoppm (poppler-utils) is not installed")
    texts = []
    with tempfile.TemporaryDirectory(prefix="kw-pdf-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        for page in pages:
            left = deadline - time.monotonic()
            if left <= 1:
                raise ExtractionError("OCR of the PDF took longer than %d s" % int(limits.timeout))
            prefix = Path(tmp) / ("p%d" % page)
            try:
                done = subprocess.run(
                    [binary, "-scale-to", _LONG_SIDE, "-gray", "-png", "-f", str(page + 1), "-l", str(page + 1), "-singlefile", str(source), str(prefix)],
                    capture_output=True,
                    timeout=left,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ExtractionError("rendering the PDF took longer than %d s" % int(limits.timeout)) from exc
            image = prefix.with_suffix(".png")
            if done.returncode != 0 or not image.exists():
                raise ExtractionError("the scanned PDF page %d cannot be rendered (pdftoppm exit %d)" % (page + 1, done.returncode))
            texts.append(ocr_png_file(image, limits, deadline))
            image.unlink()
    return texts
