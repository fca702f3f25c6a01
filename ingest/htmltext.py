"""Readable plain text from an HTML mail body.

The conversion is local and passive: nothing is fetched (no images, no
style sheets, no frames), and the content of ``<script>``, ``<style>``,
``<head>`` and similar elements is dropped. Links keep only their visible
text, so tracking URLs do not end up in the text the classifier reads.

An HTML body is attacker-controlled input, so the markup is read by a small
tokenizer here that is linear in the input. The usual tools are not: the
standard library's ``html.parser`` (which BeautifulSoup and html2text both
build on) needs minutes for a megabyte of ``</`` on Python 3.11.7
(CVE-2025-6069) and raises AssertionError on ``<![``, BeautifulSoup needs
45 s for 200,000 unclosed ``<td>``, and html2text slows down on deeply
nested lists.
"""

from __future__ import annotations

import re
from html import unescape

__all__ = ["html_to_text", "convert_html", "MAX_HTML_CHARS"]

#: HTML beyond this many characters (after dropping scripts, styles, comments
#: and inline ``data:`` URIs) is not converted.
MAX_HTML_CHARS = 2_000_000

#: Elements whose content is never text a person reads in a mail client.
_DROP = frozenset({"head", "title", "script", "style", "template", "svg", "math", "xml", "iframe", "object"})
#: Elements that start and end a line.
_LINE = frozenset(
    {
        "div", "tr", "table", "tbody", "thead", "tfoot", "ul", "ol", "dl", "dt", "dd",
        "section", "article", "header", "footer", "nav", "aside", "address", "center",
        "form", "fieldset", "figure", "figcaption", "hr", "caption", "main", "body",
    }
)  # fmt: skip
#: Elements that stand apart as a paragraph (blank line before and after).
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
#: Elements followed by a separating space (table cells).
_CELL = frozenset({"td", "th"})

#: Openers of bulky non-text removed before tokenizing, with their closers.
_BULK = re.compile(r"<(script|style)\b|<!--", re.IGNORECASE)
_BULK_END = {"script": "</script", "style": "</style", None: "-->"}
_DATA_URI = re.compile(r"data:[^\s\"'>]{64,}", re.IGNORECASE)
#: What may follow ``<`` for it to open markup rather than be a literal ``<``.
_MARKUP = re.compile(r"<(?:(/?)([a-zA-Z][a-zA-Z0-9:_-]*)|[!?/])")
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
    line, list items start with ``- ``, character references are resolved
    and runs of whitespace collapse to one space (inside ``<pre>`` only
    line-leading space is lost). The text has ``\\n`` line endings, no
    leading or trailing whitespace, and never holds the content of a
    dropped element. ``truncated`` is True when the markup, once scripts,
    styles, comments and ``data:`` URIs are gone, was longer than
    :data:`MAX_HTML_CHARS` and only its start was converted. Never raises
    on malformed markup; time and memory are linear in ``len(html)``.
    """
    if not html.strip():
        return "", False
    html = _DATA_URI.sub("data:", _strip_bulk(html))
    truncated = len(html) > MAX_HTML_CHARS
    return _tidy(_render(html[:MAX_HTML_CHARS])), truncated


def _render(html: str) -> str:
    """Walk the tags and text of ``html`` once and lay the text out."""
    pieces: list[str] = []
    dropped: dict[str, int] = {}  # open dropped elements by name
    pre = 0
    pos = 0
    while True:
        lt = html.find("<", pos)
        chunk = html[pos:] if lt < 0 else html[pos:lt]
        if chunk and not dropped:
            text = unescape(chunk)
            pieces.append(text.replace("\r\n", "\n") if pre else _SPACES.sub(" ", text))
        if lt < 0:
            break
        match = _MARKUP.match(html, lt)
        if match is None:  # a literal "<", as in "a < b"
            if not dropped:
                pieces.append("<")
            pos = lt + 1
            continue
        gt = html.find(">", lt)
        if gt < 0:  # an unclosed tag swallows the rest, as in a browser
            break
        pos = gt + 1
        name = (match.group(2) or "").lower()
        if not name:  # <!DOCTYPE>, <?xml?>, </ >: markup without text
            continue
        if match.group(1):
            pre = _end_tag(name, dropped, pieces, pre)
        else:
            pre = _start_tag(name, html[gt - 1] == "/", dropped, pieces, pre)
    return "".join(pieces)


def _start_tag(name: str, self_closing: bool, dropped: dict[str, int], pieces: list[str], pre: int) -> int:
    """Handle ``<name>``; return the new ``<pre>`` depth."""
    if name == "body":
        dropped.clear()  # an unclosed <head> or <title> ends where the body starts
    if name in _DROP:
        if not self_closing:
            dropped[name] = dropped.get(name, 0) + 1
        return pre
    if dropped:
        return pre
    if name == "br":
        pieces.append("\n")
    elif name == "li":
        pieces.append("\n- ")
    elif name in _PARAGRAPH:
        pieces.append("\n\n")
        if name == "pre" and not self_closing:
            pre += 1
    elif name in _LINE:
        pieces.append("\n")
    return pre


def _end_tag(name: str, dropped: dict[str, int], pieces: list[str], pre: int) -> int:
    """Handle ``</name>``; return the new ``<pre>`` depth."""
    if name in _DROP:
        count = dropped.pop(name, 0)
        if count > 1:
            dropped[name] = count - 1
        return pre
    if dropped:
        return pre
    if name in _PARAGRAPH:
        pieces.append("\n\n")
        if name == "pre" and pre:
            pre -= 1
    elif name in _LINE or name == "br":
        pieces.append("\n")
    elif name in _CELL:
        pieces.append(" ")
    return pre


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
        end = lower.find(_BULK_END[name], match.end())
        if end < 0:
            return "".join(kept)
        stop = lower.find(">", end) if name else end + 2
        pos = len(html) if stop < 0 else stop + 1
        kept.append(" ")
    kept.append(html[pos:])
    return "".join(kept)


def _tidy(text: str) -> str:
    """Strip spaces around line breaks and keep at most one blank line."""
    text = text.replace("\xa0", " ").replace("\r", "\n")
    text = _LINE_END_SPACES.sub("\n", text)
    text = _LINE_START_SPACES.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()
