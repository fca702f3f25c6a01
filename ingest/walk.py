"""The walk over the MIME tree: every part sorted into body text or attachment, in order.

Text parts that are neither inside an attachment nor marked as one are body
text; an attached message (``message/rfc822``) is one attachment, and its
own body text is a scope of its own, added to the text after the message's
own. The decoded bytes of each listed attachment are kept beside it for
:mod:`ingest.attachtext`, and so are the attachments of an attached message
(not listed: the attached message is the attachment).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from email.message import Message

from ingest.mimetext import clean, decode_bytes, describe, extract_uuencoded, flatten, part_filename, payload_bytes, unflow
from ingest.records import Attachment

__all__ = ["Payload", "Scope", "Walk", "walk_tree"]

log = logging.getLogger("ingest.parse")

_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_BODY_TYPES = ("text/plain", "text/html")


@dataclass(frozen=True, slots=True)
class Payload:
    """What an attachment's text is read from: its decoded bytes, its declared charset, the scope of an attached message."""

    data: bytes
    charset: str | None = None
    scope: int | None = None
    where: str = ""


@dataclass
class Scope:
    """The body parts of the message itself (scope 0) or of one attached message."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)


@dataclass
class Walk:
    """What a walk over the MIME tree collects."""

    scopes: list[Scope] = field(default_factory=lambda: [Scope()])
    attachments: list[Attachment] = field(default_factory=list)
    payloads: list[Payload] = field(default_factory=list)  # one per attachment
    # the attachments of attached messages: (scope of the attached message, attachment, payload); not listed
    nested: list[tuple[int, Attachment, Payload]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    hint: str | None = None  # see _charset_hint


def walk_tree(message: Message, hint: str | None) -> Walk:
    """Sort every part into body text or attachment, depth first, in order.

    Text parts that are neither inside an attachment nor marked as one are
    body text; an attached message (``message/rfc822``) is one attachment,
    and its own body text is added to the text after the message's own.
    """
    walk = Walk(hint=hint)
    # (part, scope, inside an attachment container, where attachments count)
    stack: list[tuple[Message, int, bool, bool]] = [(message, 0, False, True)]
    number = 0
    while stack:
        part, scope, inside, listed = stack.pop()
        number += 1
        where = "message" if number == 1 else "part %d (%s)" % (number, part.get_content_type())
        try:
            _visit(part, scope, inside, listed, where, walk, stack)
        except Exception as exc:  # one unreadable part must not cost the rest of the message
            log.warning("a MIME part could not be read (%s)", type(exc).__name__)
            walk.defects.append("%s could not be read (%s)" % (where, type(exc).__name__))
        walk.defects.extend("%s: %s" % (where, describe(d)) for d in part.defects)
    return walk


def _visit(part: Message, scope: int, inside: bool, listed: bool, where: str, walk: Walk,
           stack: list[tuple[Message, int, bool, bool]]) -> None:  # fmt: skip
    """Handle one part; push its children on ``stack``."""
    ctype = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype.startswith("message/"):
            mail = ctype in ("message/rfc822", "message/global")
            if listed:
                data = flatten(part, walk.defects, where)
                walk.attachments.append(_attachment(part, data, where, walk))
                walk.payloads.append(Payload(data, None, len(walk.scopes) if mail else None, where))
            if mail:
                walk.scopes.append(Scope())
                stack.extend((c, len(walk.scopes) - 1, False, False) for c in reversed(children))
            return
        inside = inside or disposition == "attachment"
        stack.extend((c, scope, inside, listed) for c in reversed(children))
        return
    if ctype.startswith("multipart/"):  # no boundary, no parts: show what there is as text
        ctype = "text/plain"
    data = payload_bytes(part, walk.defects, where)
    named = bool(part.get_param("name") or part.get_param("filename", header="content-disposition"))
    body = ctype in _BODY_TYPES and not inside and disposition != "attachment" and (not named or disposition == "inline")
    if body:
        text = decode_bytes(data, part.get_content_charset(), walk.defects, where, walk.hint)
        if ctype == "text/html":
            walk.scopes[scope].html.append(text)
        else:
            if str(part.get_param("format") or "").lower() == "flowed":
                text = unflow(text, str(part.get_param("delsp") or "").lower() == "yes")
            text, files = extract_uuencoded(text, walk.defects, where)
            walk.scopes[scope].plain.append(text)
            if listed:
                walk.attachments.extend(files)
                walk.payloads.extend(Payload(b"", None, None, where) for _ in files)
    if listed and (not body or named):
        walk.attachments.append(_attachment(part, data, where, walk))
        walk.payloads.append(Payload(data, part.get_content_charset(), None, where))
    elif not listed and (not body or named) and data:
        walk.nested.append((scope, _attachment(part, data, where, walk), Payload(data, part.get_content_charset(), None, where)))


def _attachment(part: Message, data: bytes, where: str, walk: Walk) -> Attachment:
    """Metadata of one attachment; winmail.dat is always application/ms-tnef."""
    filename = part_filename(part, walk.defects, where, walk.hint)
    ctype = clean(part.get_content_type())
    if ctype in _TNEF_TYPES or filename.lower() == "winmail.dat":
        ctype, filename = "application/ms-tnef", filename or "winmail.dat"
    return Attachment(filename=filename, content_type=ctype, size=len(data), sha256=hashlib.sha256(data).hexdigest())
