"""What the classifier reads of a message whose body says little: the text of its attachments.

Citizens write "zie bijlage" and attach the letter as a PDF, a Word file or
a photo. When the body has few words of its own (or points to an
attachment in a short text), the text read from the attachments
(:attr:`ingest.records.Attachment.text`) is added after it, and the reasons
say which attachment weighed. An attachment that should have been read and
was not sends the message to review. Of an attached message only the text
of its own attachments counts here: its body is part of the message's text
already. Pure functions over the parsed record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.records import Attachment, ParsedMessage

__all__ = ["ClassifierInput", "classifier_input", "SAYS_LITTLE_WORDS", "MAX_ATTACHMENT_CHARS"]

#: A body with fewer words than this says little; the attachments' text is read.
SAYS_LITTLE_WORDS = 25
#: A body this short that points to an attachment ("zie bijlage") says little too.
POINTER_WORDS = 80
#: At most this many characters of attachment text are added.
MAX_ATTACHMENT_CHARS = 10_000
#: An attachment text with fewer words than this does not count as read.
_MIN_WORDS = 3

_WORD = re.compile(r"\w+")
_POINTER = re.compile(r"\b(?:bijlage[n]?|bijgevoegd[e]?|bijgesloten|meegestuurd[e]?|attachments?|attached|scan|foto)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """The body the model reads, and what the attachments add to the judgment."""

    body: str
    reasons: tuple[str, ...] = ()
    needs_review: bool = False


def _says_little(text: str) -> bool:
    words = len(_WORD.findall(text))
    return words < SAYS_LITTLE_WORDS or (words < POINTER_WORDS and _POINTER.search(text) is not None)


def _name(attachment: Attachment) -> str:
    return attachment.filename or attachment.content_type


def _new_text(attachment: Attachment, body: str) -> str:
    """The attachment's text; of an attached message only what the body does not hold already (its own attachments)."""
    if not attachment.content_type.startswith("message/"):
        return attachment.text
    return "\n\n".join(p for p in attachment.text.split("\n\n") if p.strip() and p.strip() not in body)


def classifier_input(parsed: ParsedMessage) -> ClassifierInput:
    """The body plus the attachments' text when the body says little; the body alone otherwise."""
    if not _says_little(parsed.text):
        return ClassifierInput(parsed.text)
    texts = {id(a): _new_text(a, parsed.text) for a in parsed.attachments}
    read = [a for a in parsed.attachments if len(_WORD.findall(texts[id(a)])) >= _MIN_WORDS]
    unread = [a for a in parsed.attachments if not a.content_type.startswith("message/") and (a.text_status == "failed" or (a.text_status and a not in read))]
    reasons: list[str] = []
    pieces = [parsed.text.strip()] if parsed.text.strip() else []
    left = MAX_ATTACHMENT_CHARS
    for attachment in read:
        if left <= 0:
            break
        pieces.append(texts[id(attachment)][:left])
        left -= len(texts[id(attachment)])
        how = " (met tekstherkenning)" if attachment.text_status == "ocr" else ""
        part = ", niet volledig" if attachment.text_status == "partial" else ""
        reasons.append("de tekst van de bijlage %s is gelezen%s%s" % (_name(attachment), how, part))
    for attachment in unread:
        reasons.append("de bijlage %s kon niet worden gelezen: ter beoordeling" % _name(attachment))
    return ClassifierInput("\n\n".join(pieces), tuple(reasons), bool(unread))
