"""Readable plain text from an HTML mail body.

The conversion is local and passive: nothing is fetched (no images, no
style sheets, no frames), and the content of ``<script>``, ``<style>``,
``<head>`` and similar elements is dropped. Links keep only their visible
text, so tracking URLs do not end up in the text the classifier reads.

The tree is walked with an explicit stack, so deeply nested markup cannot
exhaust the recursion limit.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

__all__ = ["html_to_text", "convert_html", "MAX_HTML_CHARS"]

#: HTML beyond this many characters (after dropping scripts, styles, comments
#: and inline ``data:`` URIs) is not converted: parsing costs about 1.5 s per
#: million characters of dense markup.
MAX_HTML_CHARS = 1_000_000

#: Elements whose content is never text a person reads in a mail client.
_DROP = frozenset(
    {"script", "style", "head", "title", "noscript", "template", "iframe", "object", "embed", "svg", "math", "xml"}
)
#: Elements that start and end a line.
_LINE = frozenset(
    {
        "div", "tr", "table", "tbody", "thead", "tfoot", "ul", "ol", "dl", "dt", "dd",
        "section", "article", "header", "footer", "nav", "aside", "address", "center",
        "form", "fieldset", "figure", "figcaption", "hr", "caption", "main",
    }
)  # fmt: skip
#: Elements that stand apart as a paragraph (blank line before and after).
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
#: Elements followed by a separating space (table cells).
_CELL = frozenset({"td", "th"})
#: String nodes that are markup, not text.
_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction, CData)

#: Openers of bulky non-text removed before the real parse, with their closers.
_BULK = re.compile(r"<(script|style)\b|<!--", re.IGNORECASE)
_BULK_END = {"script": "</script", "style": "</style", None: "-->"}
_DATA_URI = re.compile(r"data:[^\s\"'>]{64,}", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_LINE_END_SPACES = re.compile(r"[ \t]+\n")
_LINE_START_SPACES = re.compile(r"\n[ \t]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Return the readable text of ``html`` (see :func:`convert_html`)."""
    return convert_html(html)[0]


def convert_html(html: str) -> tuple[str, bool]:
    """Return ``(text, truncated)`` for ``html``.

    Block elements become line breaks, paragraphs are separated by a blank
    line, list items start with ``- `` and runs of whitespace collapse to
    one space (inside ``<pre>`` only line-leading space is lost). The text
    has ``\\n`` line endings, no leading or trailing whitespace, and never
    holds the content of a dropped element. ``truncated`` is True when the
    markup, once scripts, styles, comments and ``data:`` URIs are gone, was
    longer than :data:`MAX_HTML_CHARS` and only its start was converted.
    """
    if not html.strip():
        return "", False
    html = _DATA_URI.sub("data:", _strip_bulk(html))
    truncated = len(html) > MAX_HTML_CHARS
    soup = BeautifulSoup(html[:MAX_HTML_CHARS], "html.parser")
    pieces: list[str] = []
    # (node, leaving, inside_pre)
    stack: list[tuple[object, bool, bool]] = [(soup, False, False)]
    while stack:
        node, leaving, in_pre = stack.pop()
        if isinstance(node, Tag):
            name = (node.name or "").lower()
            if leaving:
                pieces.append(_closing(name))
                continue
            if name in _DROP:
                continue
            if name == "br":
                pieces.append("\n")
                continue
            pieces.append(_opening(name))
            stack.append((node, True, in_pre))
            inner_pre = in_pre or name == "pre"
            stack.extend((child, False, inner_pre) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, _NOT_TEXT):
            text = str(node)
            pieces.append(text.replace("\r\n", "\n") if in_pre else _SPACES.sub(" ", text))
    return _tidy("".join(pieces)), truncated


def _strip_bulk(html: str) -> str:
    """Drop script and style elements and comments in one linear pass.

    An element or comment that is never closed runs to the end, as in a
    browser.
    """
    lower = html.lower()
    kept: list[str] = []
    pos = 0
    while (match := _BULK.search(html, pos)) is not None:
        kept.append(html[pos : match.start()])
        name = match.group(1).lower() if match.group(1) else None
        closer = _BULK_END[name]
        end = lower.find(closer, match.end())
        if end < 0:
            return "".join(kept)
        stop = lower.find(">", end) if name else end + 2
        pos = len(html) if stop < 0 else stop + 1
        kept.append(" ")
    kept.append(html[pos:])
    return "".join(kept)


def _opening(name: str) -> str:
    """What to emit when entering element ``name``."""
    if name in _PARAGRAPH:
        return "\n\n"
    if name == "li":
        return "\n- "
    if name in _LINE:
        return "\n"
    return ""


def _closing(name: str) -> str:
    """What to emit when leaving element ``name``."""
    if name in _PARAGRAPH:
        return "\n\n"
    if name in _LINE:
        return "\n"
    if name in _CELL:
        return " "
    return ""


def _tidy(text: str) -> str:
    """Strip spaces around line breaks and keep at most one blank line."""
    text = text.replace("\xa0", " ")
    text = _LINE_END_SPACES.sub("\n", text)
    text = _LINE_START_SPACES.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()
