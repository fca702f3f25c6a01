"""Text preparation: the part of a mail that says what the sender wants.

Keeps the newest part of a reply chain and drops quoted history
("Op ... schreef ...:", "> " lines, Outlook "Van:/Verzonden:/Aan:/Onderwerp:"
blocks), signatures, disclaimer paragraphs and "Verzonden vanaf mijn iPhone". When a
message is a forward with little or no text of its own, the forwarded
content is what gets classified. Pure functions over strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Prepared", "prepare", "MAX_CHARS", "OWN_TEXT_FORWARD_LIMIT", "SUBJECT_CHARS"]

#: Text beyond this many characters does not change a judgment; it is cut. The longest corpus letter is
#: about 5,400 characters once prepared (quotes and footers gone), so the model never learned from more,
#: and reading more of a long mail only costs time.
MAX_CHARS = 8_000
#: A forward whose own text is shorter than this is judged by the forwarded content.
OWN_TEXT_FORWARD_LIMIT = 200
#: Only this much of a subject line is read (a subject is a title, not a letter).
SUBJECT_CHARS = 300
#: A line of at least this many characters is read once, however often it is repeated.
REPEAT_MIN_CHARS = 12
#: A shorter line is read at most this many times.
SHORT_REPEATS = 2

_FORWARD_MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*(?:doorgestuurd bericht|forwarded message|oorspronkelijk bericht|original message|message transféré|message d'origine|weitergeleitete nachricht|ursprüngliche nachricht)\s*-{2,}"
    r"|begin (?:doorgestuurd|forwarded) (?:bericht|message)\s*:?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
#: Outlook writes "-----Oorspronkelijk bericht-----" above replies and forwards alike.
_AMBIGUOUS_MARKER = re.compile(r"oorspronkelijk bericht|original message|message d'origine|ursprüngliche nachricht", re.IGNORECASE)
_OUTLOOK_BLOCK = re.compile(
    r"^\s*\*?(?:van|from|de|von)\s*:\*?\s.+\n(?:.*\n){0,3}?\s*\*?(?:verzonden|sent|datum|date|envoyé|gesendet)\s*:\*?\s.*$",
    re.IGNORECASE | re.MULTILINE,
)
# "Op ma 3 mrt. 2026 om 14:02 schreef Jan <jan@x.nl>:", possibly wrapped over
# up to three lines; Apple Mail: "... heeft Jan het volgende geschreven:".
_REPLY_HEADER = re.compile(
    r"^[ \t]*(?:op|on|am|le)[ \t]+(?:[^\n]{0,200}\n){0,2}?[^\n]{0,200}?"
    r"\b(?:schreef|wrote|schrieb|a\s+écrit|het\s+volgende\s+geschreven)\b"
    r"(?:[^\n]{0,160}\n)?[^\n]{0,160}?:[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
#: A real reply header carries a time, a numeric date or an address; "Op 12 januari ... schreef mij:" in prose does not.
_REPLY_HEADER_EVIDENCE = re.compile(r"\d{1,2}[:.]\d{2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}|@")
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fw|fwd|doorst|tr|wg|dr)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|antw|aw|sv)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
#: Any run of reply and forward prefixes: "RE: Fw: Re: ", "AW: WG: ", "Re[2]: ".
_SUBJECT_PREFIXES = re.compile(r"^(?:\s*(?:re|antw|aw|sv|fw|fwd|doorst|tr|wg|dr)\s*(?:\[\d+\])?\s*:)+\s*", re.IGNORECASE)
_SENT_FROM = re.compile(
    r"^\s*(?:(?:verzonden|verstuurd|gestuurd|sent|envoyé|gesendet)\s+(?:vanaf|van|met|from|via|de|von)\s+(?:mijn|my|mon|meinem)?\s*.{0,40}"
    r"|(?:get|download)\s+outlook\s+(?:for|voor)\s+(?:android|ios)|outlook\s+voor\s+(?:android|ios)\s+downloaden)\s*$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"(?:dit (?:e-?mail)?bericht is (?:uitsluitend|alleen) bestemd|aan (?:de inhoud van )?dit bericht kunnen geen rechten|"
    r"de informatie (?:verzonden )?(?:in|met) dit (?:e-?mail)?bericht|this e-?mail and any attachments|"
    r"dit (?:e-?mail)?bericht (?:en (?:eventuele|de) bijlagen? )?(?:is|zijn) vertrouwelijk|"
    r"is intended (?:solely|only) for the (?:use of the )?(?:addressee|intended recipient)|disclaimer:|denk aan het milieu voordat u)",
    re.IGNORECASE,
)
#: One word of each of the alternatives of _DISCLAIMER: text without any of them cannot hold a disclaimer.
_DISCLAIMER_WORDS = ("bestemd", "rechten", "informatie", "attachments", "vertrouwelijk", "intended", "disclaimer:", "milieu")
_SIGNOFF = re.compile(
    r"^\s*(?:met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|hoogachtend|mvg|m\.v\.g\.|groet(?:en|jes)?|kind regards|best regards|regards|sincerely|yours sincerely|vr\.?\s*gr\.?)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(
    r"^\s*\*?(?:van|from|aan|to|cc|bcc|onderwerp|subject|verzonden|sent|datum|date|betreft|von|an|gesendet|betreff|de|à|envoyé|objet)\s*:\*?.*$",
    re.IGNORECASE,
)
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Prepared:
    """The text to classify and what was done to get it."""

    text: str
    forwarded: bool = False  # the forwarded content was taken
    dropped_quote: bool = False  # quoted history was removed
    dropped_signature: bool = False
    truncated: bool = False
    collapsed: bool = False  # repeated lines were read once
    subject_cut: bool = False  # only the start of a very long subject was read


def prepare(body: str, subject: str = "") -> Prepared:
    """Prepare ``body`` (and the subject line) for the classifier."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text[: MAX_CHARS * 5]
    forwarded = False
    dropped_quote = False

    forward = _forward_split(text, subject)
    if forward is not None:
        own, inner = forward
        own_clean, _ = _strip_tail(own)
        if len(own_clean.strip()) < OWN_TEXT_FORWARD_LIMIT:
            text = _strip_forward_headers(inner)
            forwarded = True
            text = own_clean.strip() + "\n\n" + text if own_clean.strip() else text

    if not forwarded:
        newest, cut = _newest_part(text)
        if cut:
            text, dropped_quote = newest, True

    kept = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    if len(kept) != len(text.split("\n")):
        dropped_quote = True
    text = "\n".join(kept)
    text, dropped_signature = _strip_tail(text)
    text, collapsed = _collapse_repeats(text)
    text = _BLANK_RUNS.sub("\n\n", text).strip()

    clean_subject = _SUBJECT_PREFIXES.sub("", (subject or "")[: SUBJECT_CHARS * 4]).strip()
    subject_cut = len(clean_subject) > SUBJECT_CHARS
    if subject_cut:
        clean_subject = clean_subject[:SUBJECT_CHARS].rsplit(" ", 1)[0].rstrip() or clean_subject[:SUBJECT_CHARS]
    clean_subject = " ".join(_collapse_repeats(clean_subject.replace(". ", ".\n"))[0].split())
    if clean_subject and clean_subject.lower() not in text[:300].lower():
        text = f"{clean_subject}.\n{text}" if text else clean_subject
    truncated = len(text) > MAX_CHARS
    return Prepared(
        text=text[:MAX_CHARS],
        forwarded=forwarded,
        dropped_quote=dropped_quote,
        dropped_signature=dropped_signature,
        truncated=truncated,
        collapsed=collapsed,
        subject_cut=subject_cut,
    )


def _collapse_repeats(text: str) -> tuple[str, bool]:
    """``text`` with each repeated line kept once (short lines at most :data:`SHORT_REPEATS` times)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    collapsed = False
    for line in text.split("\n"):
        key = " ".join(line.lower().split())
        if key:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > (1 if len(key) >= REPEAT_MIN_CHARS else SHORT_REPEATS):
                collapsed = True
                continue
        out.append(line)
    return "\n".join(out), collapsed


def _forward_split(text: str, subject: str) -> tuple[str, str] | None:
    """``(own text, forwarded text)`` when ``text`` holds a forward, else None."""
    marker = _FORWARD_MARKERS.search(text)
    if marker is not None and not (_AMBIGUOUS_MARKER.search(marker.group(0)) and _REPLY_SUBJECT.match(subject or "")):
        return text[: marker.start()], text[marker.end():]
    if _FORWARD_SUBJECT.match(subject or ""):
        block = _OUTLOOK_BLOCK.search(text)
        if block is not None:
            return text[: block.start()], text[block.start():]
    return None


def _unquote(text: str) -> str:
    """Remove one level of "> " quoting when every non-blank line has it (Apple Mail quotes what it forwards)."""
    lines = text.split("\n")
    filled = [line for line in lines if line.strip()]
    if not filled or not all(line.lstrip().startswith(">") for line in filled):
        return text
    return "\n".join(re.sub(r"^\s*> ?", "", line) for line in lines)


def _strip_forward_headers(inner: str) -> str:
    """Drop the From/Sent/To/Subject lines at the top of forwarded content."""
    lines = _unquote(inner.lstrip("\n")).split("\n")
    i = 0
    while i < len(lines) and (not lines[i].strip() or _HEADER_LINE.match(lines[i])):
        i += 1
    rest = "\n".join(lines[i:])
    # the forwarded mail may itself end in quoted history
    newest, _ = _newest_part(rest)
    return newest


def _newest_part(text: str) -> tuple[str, bool]:
    """The text above the first quoted-history marker, and whether anything was cut."""
    reply = next((m for m in _REPLY_HEADER.finditer(text) if _REPLY_HEADER_EVIDENCE.search(m.group(0)) and text[: m.start()].strip()), None)
    cuts = [m.start() for m in (reply, _OUTLOOK_BLOCK.search(text), _FORWARD_MARKERS.search(text)) if m is not None]
    cuts = [c for c in cuts if text[:c].strip()]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def _strip_tail(text: str) -> tuple[str, bool]:
    """Remove "Sent from", disclaimer paragraphs, the "-- " signature and the sign-off block."""
    lines = text.split("\n")
    dropped = False
    out: list[str] = []
    for line in lines:
        if line.rstrip() == "--":
            dropped = True
            break
        if _SENT_FROM.match(line):
            dropped = True
            continue
        out.append(line)
    out, disclaimer = _drop_disclaimers(out)
    dropped = dropped or disclaimer
    # a sign-off ("Met vriendelijke groet") in the last lines ends the message
    body_chars = 0
    for index, line in enumerate(out):
        if _SIGNOFF.match(line) and body_chars > 0 and len(out) - index <= 12:
            out = out[:index]
            dropped = True
            break
        body_chars += len(line.strip())
    return "\n".join(out), dropped


def _drop_disclaimers(lines: list[str]) -> tuple[list[str], bool]:
    """``lines`` without every paragraph (lines between blank lines) that holds disclaimer wording."""
    lower = "\n".join(lines).lower()
    if not any(word in lower for word in _DISCLAIMER_WORDS):  # most mail: no pattern can match, skip the line-by-line search
        return lines, False
    out: list[str] = []
    paragraph: list[str] = []
    dropped = False

    def flush() -> None:
        nonlocal dropped
        if any(_DISCLAIMER.search(line) for line in paragraph):
            dropped = True
        else:
            out.extend(paragraph)
        paragraph.clear()

    for line in lines:
        if line.strip():
            paragraph.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return out, dropped
