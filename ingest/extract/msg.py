"""Text from Outlook ``.msg`` files: subject, sender and body from the compound file's property streams (olefile)."""

from __future__ import annotations

import io

from ingest.extract.limits import Limits
from ingest.extract.result import Extraction, ExtractionError
from ingest.htmltext import html_to_text

__all__ = ["read_msg"]

# MAPI property tags: PR_SUBJECT, PR_SENDER_NAME, PR_SENDER_EMAIL_ADDRESS, PR_SENDER_SMTP_ADDRESS, PR_BODY, PR_BODY_HTML
_SUBJECT, _SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP, _BODY, _HTML = "0037", "0C1A", "0C1F", "5D01", "1000", "1013"


def _property(ole: object, tag: str, limits: Limits) -> str:
    """A top-level string property: UTF-16 (type 001F), 8-bit (001E, read as Windows-1252) or binary HTML (0102)."""
    for kind, codec in (("001F", "utf-16-le"), ("001E", "cp1252"), ("0102", "utf-8")):
        name = "__substg1.0_%s%s" % (tag, kind)
        if ole.exists(name):  # type: ignore[attr-defined]
            with ole.openstream(name) as stream:  # type: ignore[attr-defined]
                data = stream.read(limits.max_text_chars * 8)
            return str(data.decode(codec, "replace")).rstrip("\x00")
    return ""


def read_msg(data: bytes, limits: Limits, deadline: float) -> Extraction:
    """The text of an Outlook message: "Van:", "Onderwerp:" and the body (plain, else HTML converted)."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise ExtractionError("the Outlook message cannot be read (%s)" % type(exc).__name__) from exc
    try:
        subject = _property(ole, _SUBJECT, limits)
        name = _property(ole, _SENDER_NAME, limits)
        address = _property(ole, _SENDER_SMTP, limits) or _property(ole, _SENDER_EMAIL, limits)
        body = _property(ole, _BODY, limits)
        if not body.strip():
            body = html_to_text(_property(ole, _HTML, limits))
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise ExtractionError("the Outlook message is damaged (%s)" % type(exc).__name__) from exc
    finally:
        ole.close()
    sender = ("%s <%s>" % (name, address) if name and address else name or address).strip()
    head = [line for line in (("Van: " + sender) if sender else "", ("Onderwerp: " + subject) if subject else "") if line]
    return Extraction("\n".join(head) + ("\n\n" if head else "") + body.replace("\r\n", "\n").strip())
