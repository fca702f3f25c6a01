"""Response headers for an attachment: always a download, never shown in the browser.

The file name and type come from the sender, so neither is trusted: the name
is reduced to a plain file name (RFC 6266 ``filename`` in ASCII plus an RFC
5987 ``filename*`` in UTF-8), and the type is ``application/octet-stream``
unless it is one of :data:`SAFE_TYPES`, none of which a browser runs.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

__all__ = ["attachment_response_headers", "safe_filename", "SAFE_TYPES", "FALLBACK_NAME"]

#: Types sent as they are declared; everything else is ``application/octet-stream``.
SAFE_TYPES = frozenset({
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
})  # fmt: skip
#: The name of an attachment whose own name leaves nothing.
FALLBACK_NAME = "bijlage"
#: At most this many characters of a file name are kept.
MAX_NAME_CHARS = 150

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;%]')


def safe_filename(filename: str) -> str:
    """A plain file name: no directories, control, bidi or quoting characters, no leading dots, not empty."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cf", "Cc", "Zl", "Zp"))  # no bidi overrides
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME_CHARS - len(ext) - 1] + dot + ext) if dot and 0 < len(ext) <= 10 else name[:MAX_NAME_CHARS]
    return name or FALLBACK_NAME


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    folded = _UNSAFE.sub("_", folded).strip(". ")
    return folded or FALLBACK_NAME


def attachment_response_headers(filename: str, content_type: str) -> dict[str, str]:
    """The headers of an attachment's download: ``attachment`` disposition, ``nosniff``, a harmless type."""
    name = safe_filename(filename)
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    served = declared if declared in SAFE_TYPES else "application/octet-stream"
    disposition = 'attachment; filename="%s"' % _ascii(name)
    if _ascii(name) != name:
        disposition += "; filename*=UTF-8''%s" % quote(name, safe="")
    return {
        "Content-Type": served,
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
