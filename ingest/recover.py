"""Read through what a person reads past: junk before the headers and header lines folded without indentation.

:func:`recover_start` finds the header block behind a byte-order mark (a
file saved as UTF-16 is read as such), leading white space or a forwarding
banner ("---- Original email message ----", "-----Original Message-----",
"----- Forwarded message from x@example.nl -----", a line of underscores,
"Begin forwarded message:") and
:func:`rejoin_headers` joins a header line that lost its indentation to the
field before it, so the fields after it are not taken for the body. Both
work on bytes before any parser and say in a defect what they repaired;
input that is not a mail message at all raises :class:`ParseError`.
"""

from __future__ import annotations

import re

from klachtwacht.errors import ParseError

__all__ = ["recover_start", "rejoin_headers"]

_BOM = b"\xef\xbb\xbf"
_HEADER_START = re.compile(rb"From |[\x21-\x39\x3b-\x7e]+[ \t]*:")
#: A forwarding banner line: dashes or asterisks around a few words, or "Begin forwarded message:".
_BANNER = re.compile(
    rb"[ \t]*(?:[-=*_]{2,}[ \t]*[A-Za-z][^\r\n]{2,120}?[ \t]*[-=*_]{2,}|[-=*_]{5,}|(?:begin )?(?:forwarded|doorgestuurd) (?:message|bericht|e-?mail)[ \t]*:?)[ \t]*\r?\n",
    re.IGNORECASE,
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
#: Field names that mark a line as a real header field when deciding about an unindented line before it.
_KNOWN = frozenset(
    b"from to cc bcc subject date message-id reply-to sender return-path received mime-version in-reply-to references "
    b"content-type content-transfer-encoding content-disposition content-language importance priority thread-topic "
    b"thread-index user-agent organization delivered-to envelope-to list-id list-unsubscribe precedence auto-submitted".split()
)
_MAX_BANNER_LINES = 3


def recover_start(raw: bytes) -> tuple[bytes, list[str]]:
    """The bytes from the header block on, and a defect for each thing skipped before it."""
    defects: list[str] = []
    if raw.startswith(_UTF16_BOMS) and len(raw) % 2 == 0:
        try:
            raw = raw.decode("utf-16").encode("utf-8")
            defects.append("the message was saved as UTF-16; read as UTF-8")
        except UnicodeDecodeError:
            pass
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
        defects.append("a byte-order mark before the header block was skipped")
    if not raw.strip():
        raise ParseError("not a mail message: the input is empty")
    stripped = raw.lstrip(b" \t\r\n")
    if len(stripped) != len(raw):
        skipped = raw[: len(raw) - len(stripped)]
        defects.append("blank lines before the header block were skipped" if skipped.strip(b"\r\n") == b"" else "white space before the header block was skipped")
    raw = stripped
    for _ in range(_MAX_BANNER_LINES):
        if _HEADER_START.match(raw) and not _BANNER.match(raw):
            return raw, defects
        banner = _BANNER.match(raw)
        if banner is None:
            break
        raw = raw[banner.end() :].lstrip(b" \t\r\n")
        defects.append("a forwarding banner before the header block was skipped")
    if not _HEADER_START.match(raw):
        raise ParseError("not a mail message: no header block at the start of the input")
    return raw, defects


def _is_field(line: bytes) -> bool:
    match = _FIELD.match(line)
    if match is None:
        return False
    name = match.group(1).lower()
    return name in _KNOWN or name.startswith((b"x-", b"content-", b"list-", b"arc-", b"dkim-", b"authentication-"))


def rejoin_headers(raw: bytes) -> tuple[bytes, list[str]]:
    """Join header lines folded without indentation to the field before them.

    A line in the header block that is neither a field nor indented ends the
    block for a parser, and the rest of the fields become body text. When a
    known field follows such a line (after any continuation lines), the
    line is taken for a continuation and indented.
    """
    end = _block_end(raw)
    head = raw[:end]
    lines = head.splitlines(keepends=True)
    if len(lines) < 2:
        return raw, []
    fixed: list[bytes] = []
    joined = 0
    for index, line in enumerate(lines):
        if index == 0 or line[:1] in (b" ", b"\t") or _FIELD.match(line) or not line.strip():
            fixed.append(line)
            continue
        later = next((later for later in lines[index + 1 :] if later[:1] not in (b" ", b"\t") and later.strip() and not _orphan(later)), b"")
        if not _is_field(later):
            break  # the header block really ends here: the rest is body text without a blank line
        fixed.append(b" " + line)
        joined += 1
    if not joined:
        return raw, []
    rest = b"".join(lines[len(fixed) :])
    defects = ["%d header line%s folded without indentation joined to the field before" % (joined, "" if joined == 1 else "s")]
    return b"".join(fixed) + rest + raw[end:], defects


def _orphan(line: bytes) -> bool:
    """A line that is neither a field nor indented (a candidate continuation)."""
    return _FIELD.match(line) is None


def _block_end(raw: bytes) -> int:
    """Where the header block ends: at the first blank line, or the end of the input."""
    match = re.search(rb"\r?\n\r?\n", raw)
    return match.start() + 1 if match else len(raw)
