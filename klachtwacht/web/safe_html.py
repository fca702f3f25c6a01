"""Mail HTML made harmless: sanitised with nh3 and shown in a sandboxed iframe under a strict CSP.

What the app passes in
----------------------
The parsed record (:func:`klachtwacht.pipeline.parsed_of`, a
:class:`ingest.records.ParsedMessage`) keeps no HTML: its ``text`` is the plain
text, or the HTML converted to text when the message has no plain part
(``text_from_html``). The HTML itself lives only in the raw message: the row in
``raw_blobs`` named by ``Message.blob_sha256``, Zstandard-compressed, read with
:func:`klachtwacht.intake.load_raw`. So the message page does::

    raw = load_raw(session, message.blob_sha256)
    html = html_of(raw)                       # klachtwacht.web.mailparts
    if html is not None:
        body = sanitize(html, cid_url=lambda cid: f"/berichten/{pk}/cid/{quote(cid)}" if cid in parts else None)
    else:
        body = text_to_html(parsed_of(message).text)
    document = body_document(body)            # served at the iframe URL with body_response_headers()

with ``parts = inline_parts(raw)`` serving each ``cid:`` image, and the page
(under :data:`APP_CSP`) embedding ``<iframe sandbox="allow-same-origin"
title="Inhoud van het bericht" src="...">``. Never add ``allow-scripts``.
``allow-same-origin`` is there so that the ``cid:`` image requests carry the
SameSite=Lax session cookie: from a bare ``sandbox`` frame (an opaque origin)
chromium sends them without it (measured in the browser test). The body URL
and the image URLs need the same access check and audit line as the page.
Put the document at its own URL, not in ``srcdoc`` (which would inherit the
app's CSP and need escaping into an attribute).

The rules
---------
- Only an allow-list of tags and attributes survives (nh3's list minus
  ``area``/``map``, plus ``font`` and the table layout attributes of mail).
  ``script``, ``style``, ``svg``, ``math``, ``iframe``, ``object``, ``embed``,
  ``noscript``, ``template``, ``title`` and the like go *with* their content;
  forms, inputs, ``meta``, ``base`` and ``link`` go, their text stays. No event
  handler, ``background`` attribute or comment is kept.
- ``style`` attributes keep only layout and colour properties that cannot
  load anything; one that mentions ``url(``, ``image(``, ``image-set``,
  ``expression``, ``@import``, ``behavior`` or a CSS escape (``\\``) is dropped whole.
- Images: ``cid:`` sources go through ``cid_url(cid)`` (the Content-ID,
  percent-decoded as RFC 2392 writes it); every other image (remote, ``data:``,
  relative) becomes the text :data:`BLOCKED_IMAGE`, so a tracking pixel never loads.
- Links do not navigate: ``href`` becomes ``data-href`` (only ``http``,
  ``https`` and ``mailto`` targets survive at all; ``javascript:``,
  ``vbscript:``, ``data:`` and relative targets are dropped) and
  :func:`body_document`'s style shows the target as text after the link text.
  A reviewer reads other people's mail; phishing links must be visible but
  must not be one click away, and a link without ``href`` cannot be followed,
  focused or opened in a new tab.
- At most :data:`MAX_HTML_CHARS` characters are sanitised; the rest is cut off
  with :data:`CUT_NOTE`: a mail of 50 KB takes about 3 ms, and the worst
  case, 20 MB of dense markup, about 0.4 s (two cores shared, 2026).

The output is run through nh3 a second time after the rewrites, so what leaves
:func:`sanitize` is always nh3's own serialisation. The CSP of the body
document (:data:`BODY_CSP`) blocks scripts, remote images, fonts, frames and
forms again should anything pass the sanitiser.
"""

from __future__ import annotations

import html as htmlmod
import re
from collections.abc import Callable
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from urllib.parse import unquote

import nh3

from klachtwacht.web.downloads import attachment_response_headers
from klachtwacht.web.mailparts import html_of, inline_parts

__all__ = [
    "sanitize",
    "text_to_html",
    "body_document",
    "body_response_headers",
    "app_csp",
    "BODY_CSP",
    "APP_CSP",
    "MAX_HTML_CHARS",
    "MAX_TEXT_CHARS",
    "BLOCKED_IMAGE",
    "CUT_NOTE",
    "html_of",
    "inline_parts",
    "attachment_response_headers",
]

#: At most this many characters of a message's HTML are sanitised and shown.
MAX_HTML_CHARS = 500_000
#: At most this many characters of a plain-text body are shown.
MAX_TEXT_CHARS = 1_000_000
#: What stands where an image from outside (or an unknown ``cid:``) was.
BLOCKED_IMAGE = "[afbeelding van buiten geblokkeerd]"
#: What follows a body that was cut at the size limit.
CUT_NOTE = "[Dit bericht is te lang om helemaal te tonen; de rest is afgekapt.]"

#: The Content-Security-Policy of the body document at the iframe URL.
#: Nothing but same-origin images (the ``cid:`` parts the app serves) and the
#: document's own inline style; no script, font, frame, form, base or plugin;
#: only the app itself may frame it; ``sandbox`` keeps even a body opened in a
#: tab of its own script-free and form-free (``allow-same-origin`` only, so the
#: browser sends the session cookie with the ``cid:`` image requests).
BODY_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; font-src 'none'; "
    "script-src 'none'; object-src 'none'; frame-src 'none'; child-src 'none'; worker-src 'none'; "
    "connect-src 'none'; media-src 'none'; manifest-src 'none'; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox allow-same-origin"
)


def app_csp(*style_sources: str) -> str:
    """The Content-Security-Policy of the app's own pages; ``style_sources`` adds origins (a municipality's theme)."""
    style = " ".join(("'self'", *style_sources))
    return (
        "default-src 'self'; script-src 'self'; style-src %s; img-src 'self'; font-src 'self'; "
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'" % style
    )


#: The app's pages: no inline script or style, nothing from elsewhere, never framed.
APP_CSP = app_csp()

_DROP_WITH_CONTENT = {
    "script", "style", "svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noscript", "noembed", "noframes", "template", "title", "xmp", "plaintext", "textarea",
    "select", "option", "datalist", "audio", "video", "canvas", "head",
}  # fmt: skip
_TAGS = (set(nh3.ALLOWED_TAGS) - {"area", "map"}) | {"font", "tfoot"}
_LAYOUT = {"align", "valign", "width", "height", "bgcolor", "border", "cellpadding", "cellspacing", "colspan", "rowspan"}
_ATTRIBUTES: dict[str, set[str]] = deepcopy(nh3.ALLOWED_ATTRIBUTES)
_ATTRIBUTES.pop("area", None)
_ATTRIBUTES.setdefault("*", set()).update({"style", "dir", "lang", "title"})
_ATTRIBUTES["font"] = {"color", "face", "size"}
for _tag in ("table", "tbody", "thead", "tfoot", "tr", "td", "th", "col", "colgroup"):
    _ATTRIBUTES.setdefault(_tag, set()).update(_LAYOUT)
_ATTRIBUTES["img"] = {"src", "alt", "width", "height", "align", "border"}
_ATTRIBUTES["a"] = {"href"}
_STYLE_PROPERTIES = {
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight", "font-variant",
    "line-height", "letter-spacing", "text-align", "text-decoration", "text-indent", "text-transform",
    "vertical-align", "white-space", "word-spacing", "direction", "margin", "margin-top", "margin-right",
    "margin-bottom", "margin-left", "padding", "padding-top", "padding-right", "padding-bottom",
    "padding-left", "border", "border-top", "border-right", "border-bottom", "border-left",
    "border-color", "border-style", "border-width", "border-collapse", "border-spacing", "width",
    "height", "max-width", "min-width", "list-style-type", "display",
}  # fmt: skip
_SCHEMES = {"http", "https", "mailto", "cid"}
_STYLE_DANGER = re.compile(r"url\s*\(|image\s*\(|image-set|expression|@import|behavior|\\|javascript|vbscript", re.I)
#: Sources the first pass marks for the placeholder; nh3's serialisation escapes
#: ``<`` and ``>`` everywhere, so every ``<``/``>`` in its output delimits a tag.
_BLOCKED_SRC = "https://blocked.klachtwacht.invalid/"
_LINK_TARGET = re.compile(r"(?i)(https?|mailto):")
_IMG = re.compile(r"<img\b[^>]*>")
_A_OPEN = re.compile(r"<a\b[^>]*>")
_ATTR = re.compile(r'\s([a-z-]+)="([^"]*)"')

#: The second pass: the first pass's output plus the rewrites, nothing else.
_FINAL_ATTRIBUTES = deepcopy(_ATTRIBUTES)
_FINAL_ATTRIBUTES["a"] = {"data-href"}


@dataclass
class _Call:
    """The state of one :func:`sanitize` call, seen by the first pass's attribute filter."""

    cid_url: Callable[[str], str | None]
    local: set[str] = field(default_factory=set)  # the local image URLs handed out


_CALL: ContextVar[_Call] = ContextVar("klachtwacht_sanitize_call")


def _first_pass_attribute(tag: str, name: str, value: str) -> str | None:
    """The first pass's rewrite of one attribute (after nh3's own URL checks)."""
    if name == "style":
        return None if _STYLE_DANGER.search(value) or not value.strip() else value
    if tag == "img" and name == "src":
        if value[:4].lower() == "cid:":
            call = _CALL.get()
            try:
                url = call.cid_url(unquote(value[4:]).strip().strip("<>"))
            except Exception:  # nh3 would strip the attribute and report it; the placeholder says more
                url = None
            if url is not None:
                call.local.add(url)
                return url
        return _BLOCKED_SRC
    if tag == "a" and name == "href":
        return value if _LINK_TARGET.match(value) else None  # no relative or cid: targets
    return value


def _no_empty_style(tag: str, name: str, value: str) -> str | None:
    """Drop a ``style`` that property filtering left empty."""
    return None if name == "style" and not value.strip(" ;") else value


# Built once: building a cleaner costs about as much as cleaning a small mail.
_FIRST = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_first_pass_attribute,
    strip_comments=True,
    link_rel=None,
    url_schemes=_SCHEMES,
    url_relative="pass_through",  # the filter decides; relative image sources become the placeholder
    filter_style_properties=_STYLE_PROPERTIES,
)
_FINAL = nh3.Cleaner(
    tags=_TAGS | {"span"},
    attributes=_FINAL_ATTRIBUTES,
    tag_attribute_values={"span": {"class": {"kw-blocked"}}, "p": {"class": {"kw-cut"}}},
    attribute_filter=_no_empty_style,
    strip_comments=True,
    link_rel=None,
    url_schemes=_SCHEMES - {"cid"},
    url_relative="pass_through",
    filter_style_properties=_STYLE_PROPERTIES,
)


def sanitize(html: str, *, cid_url: Callable[[str], str | None]) -> str:
    """The HTML body ``html`` made harmless for the body document (see the module docstring).

    ``cid_url(cid)`` returns the local URL of the inline part with Content-ID
    ``cid`` (no angle brackets), or None when there is none; it should return
    a path on the app's own origin (``img-src 'self'``). Should it raise, the
    image becomes the placeholder.
    """
    cut = len(html) > MAX_HTML_CHARS
    if cut:
        html = html[:MAX_HTML_CHARS]
    call = _Call(cid_url)
    token = _CALL.set(call)
    try:
        first = _FIRST.clean(html)
    finally:
        _CALL.reset(token)
    rewritten = _A_OPEN.sub(_neutral_link, _IMG.sub(lambda m: _image(m.group(0), call.local), first))
    if cut:
        rewritten += '<p class="kw-cut">%s</p>' % htmlmod.escape(CUT_NOTE)
    return _FINAL.clean(rewritten)


def _attrs(tag: str) -> dict[str, str]:
    """The attributes of one tag of nh3's output, values unescaped."""
    return {name: htmlmod.unescape(value) for name, value in _ATTR.findall(tag)}


def _image(tag: str, local: set[str]) -> str:
    """A local image as it is; any other image as the placeholder text (with its alt text)."""
    src = _attrs(tag).get("src")
    if src is not None and src in local:
        return tag
    alt = " ".join(_attrs(tag).get("alt", "").split())[:200]
    label = BLOCKED_IMAGE if not alt else "%s: %s]" % (BLOCKED_IMAGE[:-1], alt)
    return '<span class="kw-blocked">%s</span>' % htmlmod.escape(label, quote=False)


def _neutral_link(match: re.Match[str]) -> str:
    """``<a href=X ...>`` as ``<a data-href=X>``: the target shown, never followed."""
    href = _attrs(match.group(0)).get("href")
    if not href:
        return "<a>"
    return '<a data-href="%s">' % htmlmod.escape(href[:500], quote=True)


def text_to_html(text: str) -> str:
    """A plain-text body as HTML: escaped, line breaks and runs of spaces kept, no URL made a link."""
    cut = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    lines = [htmlmod.escape(line, quote=True).replace("  ", " \u00a0").replace("\t", "\u00a0\u00a0\u00a0\u00a0") for line in text.split("\n")]
    body = '<div class="kw-plain">%s</div>' % "<br>\n".join(lines)
    if cut:
        body += '<p class="kw-cut">%s</p>' % htmlmod.escape(CUT_NOTE)
    return body


_BASE_STYLE = """
html { color: #1a1a1a; background: #fff; }
body { margin: 0; padding: 1rem; font: 1rem/1.5 "Noto Sans", Arial, sans-serif; overflow-wrap: anywhere; }
img { max-width: 100%; height: auto; }
table { max-width: 100%; }
pre { white-space: pre-wrap; }
blockquote { margin: 0 0 0 .5rem; padding-left: .75rem; border-left: 3px solid #767676; }
a[data-href] { color: #00548f; text-decoration: underline; }
a[data-href]::after { content: " [" attr(data-href) "]"; color: #4b4b4b; font-size: .875em; text-decoration: none; }
.kw-blocked { display: inline-block; padding: 0 .25rem; border: 1px dashed #767676; color: #4b4b4b; font-size: .875rem; }
.kw-cut { margin-top: 1.5rem; padding: .5rem; border-top: 2px solid #767676; color: #4b4b4b; font-style: italic; }
"""


def body_document(safe_html: str) -> str:
    """The whole document served at the iframe URL around the output of :func:`sanitize` or :func:`text_to_html`."""
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Inhoud van het bericht</title>\n<style>%s</style>\n</head>\n<body>\n%s\n</body>\n</html>\n"
    ) % (_BASE_STYLE, safe_html)


def body_response_headers() -> dict[str, str]:
    """The headers of the body document's response (the CSP among them)."""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": BODY_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Frame-Options": "SAMEORIGIN",  # frame-ancestors for browsers without CSP 2
    }
