"""Text from images (PNG, JPEG, TIFF, GIF, BMP, WebP, HEIC) by OCR with Tesseract (``tesseract -l nld``), size-checked with Pillow first."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ingest.extract.limits import Limits
from ingest.extract.result import Extraction, ExtractionError

__all__ = ["ocr_image", "ocr_png_file", "tesseract_binary"]


def tesseract_binary() -> str:
    """The tesseract executable, or ExtractionError when it is not installed."""
    found = shutil.which("tesseract")
    if found is None:
        raise ExtractionError("OCR is not available: tesseract is not installed")
    return found


def ocr_image(data: bytes, limits: Limits, deadline: float) -> Extraction:
    """The text of an image (PNG, JPEG, TIFF, GIF, BMP, WebP); too many pixels is a defect, not a read."""
    from PIL import Image, ImageOps

    _register_heif()
    try:
        opened = Image.open(io.BytesIO(data))
        width, height = opened.size
    except Image.DecompressionBombError as exc:
        raise ExtractionError("the image is too large to read (a decompression bomb?)") from exc
    except Exception as exc:  # Pillow raises many kinds for broken images
        raise ExtractionError("the image cannot be read (%s)" % type(exc).__name__) from exc
    if width * height > limits.max_pixels:
        raise ExtractionError("the image is too large to read: %d x %d pixels (limit %d pixels)" % (width, height, limits.max_pixels))
    try:
        image = ImageOps.exif_transpose(opened).convert("L")
    except Exception as exc:
        raise ExtractionError("the image cannot be decoded (%s)" % type(exc).__name__) from exc
    if max(width, height) < 1200:  # small photos: enlarge so letters have enough pixels
        factor = 1200 / max(width, height, 1)
        image = image.resize((max(1, int(width * factor)), max(1, int(height * factor))))
    with tempfile.TemporaryDirectory(prefix="kw-ocr-") as tmp:
        path = Path(tmp) / "page.png"
        image.save(path)
        return Extraction(ocr_png_file(path, limits, deadline), ocr=True)


def _register_heif() -> None:
    """Let Pillow open HEIF/HEIC (iPhone photos) when pillow-heif is installed."""
    try:
        import pillow_heif
    except ImportError:
        return
    pillow_heif.register_heif_opener()


def ocr_png_file(path: Path, limits: Limits, deadline: float) -> str:
    """Tesseract's text of one image file, within what is left of the time."""
    left = deadline - time.monotonic()
    if left <= 1:
        raise ExtractionError("no time left for OCR")
    try:
        done = subprocess.run(
            [tesseract_binary(), str(path), "stdout", "-l", limits.ocr_language, "--psm", "3"],
            capture_output=True,
            timeout=left,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError("OCR took longer than %d s" % int(limits.timeout)) from exc
    if done.returncode != 0:
        raise ExtractionError("OCR failed (tesseract exit %d)" % done.returncode)
    return done.stdout.decode("utf-8", "replace")
