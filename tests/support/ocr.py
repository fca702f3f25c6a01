"""Guard for tests that read attachments by OCR: tesseract with its Dutch model, and pdftoppm."""

from __future__ import annotations

import shutil
import subprocess

from support.services import missing

__all__ = ["require_ocr"]


def require_ocr() -> None:
    """Fail in CI, skip elsewhere, unless ``tesseract -l nld`` and ``pdftoppm`` can run."""
    tesseract = shutil.which("tesseract")
    if tesseract is None or shutil.which("pdftoppm") is None:
        missing("tesseract-ocr and poppler-utils are needed to read scanned attachments")
    languages = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, check=False).stdout.split()
    if "nld" not in languages:
        missing("tesseract's Dutch model is not installed (Debian: tesseract-ocr-nld)")
