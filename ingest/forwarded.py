"""Who wrote a forwarded message? The sender in the forwarded header block.

When a secretary forwards a citizen's mail to the wethouder ("Fw:"), the
letter to the sender belongs to the citizen, not to the colleague who
forwarded it.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from ingest.records import Address

__all__ = ["forwarded_sender"]

_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:doorgestuurd bericht|forwarded message|oorspronkelijk bericht|original message)\s*-{2,}|begin (?:doorgestuurd|forwarded) (?:bericht|message)\s*:?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FROM_LINE = re.compile(r"^\s*[>*\s]*(?:van|from)\s*:\*?\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def forwarded_sender(text: str) -> Address | None:
    """The sender named in the first forwarded header block of ``text``, or None."""
    marker = _MARKER.search(text)
    region = text[marker.end() : marker.end() + 800] if marker else ""
    if not region:
        # Outlook forwards often have no marker line, only the "Van:/Verzonden:" block
        block = re.search(r"^\s*\*?(?:van|from)\s*:.+\n(?:.*\n){0,3}?\s*\*?(?:verzonden|sent|datum|date)\s*:", text, re.IGNORECASE | re.MULTILINE)
        if block is None:
            return None
        region = text[block.start() : block.start() + 800]
    line = _FROM_LINE.search(region)
    if line is None:
        return None
    value = line.group(1).strip().replace("[mailto:", "<").replace("]", ">")
    name, address = parseaddr(value)
    if "@" not in address:
        found = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", value)
        if found is None:
            return None
        address = found.group(0)
    return Address(address=address.lower(), name=name.strip().strip('"'))
