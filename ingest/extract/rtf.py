"""Text from RTF with striprtf (code pages as the document declares them)."""

from __future__ import annotations

from ingest.extract.limits import Limits
from ingest.extract.result import Extraction, ExtractionError

__all__ = ["read_rtf"]


def read_rtf(data: bytes, limits: Limits, deadline: float) -> Extraction:
    """The text of an RTF document; RTF is 7-bit, characters beyond it are escapes that striprtf decodes."""
    from striprtf.striprtf import rtf_to_text

    source = data.decode("latin-1")
    try:
        text = str(rtf_to_text(source, errors="replace"))  # type: ignore[no-untyped-call]
    except (ValueError, LookupError, IndexError, RecursionError) as exc:
        raise ExtractionError("the RTF document cannot be read (%s)" % type(exc).__name__) from exc
    return Extraction(text.replace("\r\n", "\n").strip())
