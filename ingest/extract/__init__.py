"""Text from attachments: PDF (scans by OCR), DOCX, ODT, RTF, Outlook .msg and images (OCR, Dutch).

:func:`kind_of` says which reader an attachment needs; an
:class:`Extractor` reads it. :class:`ProcessExtractor`, the default, runs
every third-party reader in a process of its own with a timeout and lowered
memory and CPU limits, so a zip bomb, an encrypted or broken PDF or a huge
image gives a defect and never a stuck or crashed pass.
:class:`InProcessExtractor` is the test double for unit tests of pure logic.
"""

from __future__ import annotations

from ingest.extract.kinds import ISOLATED, KINDS, kind_of
from ingest.extract.limits import DEFAULT_LIMITS, Limits
from ingest.extract.result import Extraction, ExtractionError
from ingest.extract.run import Extractor, InProcessExtractor, ProcessExtractor, default_extractor

__all__ = [
    "DEFAULT_LIMITS",
    "ISOLATED",
    "KINDS",
    "Extraction",
    "ExtractionError",
    "Extractor",
    "InProcessExtractor",
    "Limits",
    "ProcessExtractor",
    "default_extractor",
    "kind_of",
]
