"""Addresses from header fields, with the obvious mistakes repaired and every repair a defect.

mail-parser's address parser reads the field (it recovers much that the
standard library gets wrong); display names are then decoded here, from the
field's bytes, also where a mailer put the encoded words inside quotes.
What it cannot read is repaired when the mistake is obvious: a trailing dot
after the domain (``x@example.com.``), an address written after the name
without angle brackets (``Name name@example.com``), doubled ``@`` or
a doubled dot in the domain, ``mailto:`` or square brackets around it, or
brackets around only part of it; an unquoted comma in a lone name
("Jansen, Jan <jan@example.nl>") stays in the name. With two From fields
the one that holds an address counts.
"""

from __future__ import annotations

import re

from mailparser.utils import get_addresses

from ingest.encodedwords import decode_words
from ingest.mimetext import Headers, clean, clip
from ingest.records import Address

__all__ = ["addresses", "first", "return_path", "sender", "MAX_HEADER_CHARS"]

#: Subjects and display names are cut to this many characters.
MAX_HEADER_CHARS = 10_000

_ADDR = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SHIELD = {0xDC80 + i: 0xF780 + i for i in range(128)}
_UNSHIELD = {v: k for k, v in _SHIELD.items()}
_DOUBLE_DOT = re.compile(r"(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)\.{2,}(?=[A-Za-z0-9])")
_MAILTO = re.compile(r"mailto:\s*$", re.IGNORECASE)
_TRAILING_DOT = re.compile(r"(@[A-Za-z0-9.-]*[A-Za-z0-9])\.+(?=\s*(?:>|,|$))")


def first(found: tuple[Address, ...]) -> Address | None:
    return found[0] if found else None


def sender(headers: Headers, defects: list[str]) -> Address | None:
    """The From address: of the first From field that holds one, else the name of the first."""
    values = headers.raw("from")
    if not values:
        return None
    for index, value in enumerate(values):
        found = _parse(value, "From", defects if index == 0 else [], headers.hint)
        if found and found[0].address:
            if len(values) > 1:
                which = "the first is used" if index == 0 else "the first with an address (number %d) is used" % (index + 1)
                defects.append("%d From headers; %s" % (len(values), which))
            return found[0]
    defects.append("From header holds no usable address")
    name_only = decode_words(values[0].replace("\r", " ").replace("\n", " "), defects, "From header", headers.hint).strip()
    return Address(address="", name=clip(clean(name_only), MAX_HEADER_CHARS, "From name", defects))


def addresses(headers: Headers, name: str, defects: list[str]) -> tuple[Address, ...]:
    """The addresses of the first ``name`` field (those it holds with an address)."""
    values = headers.raw(name)
    if not values:
        return ()
    text = values[0]
    return tuple(a for a in _parse(text, name.title(), defects, headers.hint) if a.address)


def _read(text: str, findings: list[dict[str, object]]) -> list[tuple[str, str]]:
    """mail-parser's reading of an address field; 8-bit bytes (surrogates) pass through it in the private use area."""
    shielded = text.translate(_SHIELD)
    return [(str(d).translate(_UNSHIELD), str(a).translate(_UNSHIELD)) for d, a in get_addresses(shielded, defects=findings, decode_names=False) if a]


def _parse(text: str, what: str, defects: list[str], hint: str | None = None) -> list[Address]:
    findings: list[dict[str, object]] = []
    found = _read(text, findings)
    if not found:
        repaired, how = _repair(text)
        if repaired is not None:
            again = _read(repaired, [])
            if again:
                defects.append("%s header: address repaired (%s)" % (what, how))
                found, findings = again, []
    if len(found) == 1 and findings and text.count("<") == 1 and text.count("@") == 1:
        # "Jansen, Jan <jan@example.nl>": an unquoted comma in the name, not two addresses
        found, findings = [(text[: text.index("<")], found[0][1])], []
        defects.append("%s header: a comma in the name without quotes was read as part of the name" % what)
    defects.extend("%s header: %s" % (what, item.get("reason")) for item in findings)
    result = []
    for display, address in found:
        address = _plain(address, what, defects, hint)
        name = clean(" ".join(decode_words(display, defects, what + " name", hint).split()))
        name = clip(name.strip().strip('"').strip(), MAX_HEADER_CHARS, what + " name", defects)
        name = "" if name == "<>" else name
        result.append(Address(address=clean(address).strip().lower()[:320], name=name))
    return result


def _plain(address: str, what: str, defects: list[str], hint: str | None) -> str:
    """An addr-spec as text (8-bit bytes in it decoded, as some mailers send internationalised addresses)."""
    return address if address.isascii() else decode_words(address, defects, what + " address", hint)


def _repair(text: str) -> tuple[str | None, str]:
    """``text`` with one obvious address mistake put right, and what was done; (None, "") when none is obvious."""
    if _TRAILING_DOT.search(text):
        return _TRAILING_DOT.sub(r"\1", text), "a dot after the domain removed"
    if "@@" in text:
        return re.sub(r"@{2,}", "@", text), "a doubled @ removed"
    if _DOUBLE_DOT.search(text):
        return _DOUBLE_DOT.sub(r"\1.", text), "a doubled dot in the domain removed"
    if "<" not in text:
        match = _ADDR.search(text)
        if match:
            name = _MAILTO.sub("", text[: match.start()]).strip().strip(",;:[(").strip()
            rest = text[match.end() :].strip(" \t,;()[]")
            if not rest:
                name = name.strip('"').replace('"', "")
                value = ('"%s" <%s>' % (name, match.group(0))) if name else match.group(0)
                return value, "angle brackets put around the address after the name" if name else "stray characters around the address removed"
    else:
        match = _ADDR.search(text)
        if match:
            name = text[: text.find("<")].strip().strip('"').replace('"', "")
            return ('"%s" <%s>' % (name, match.group(0))) if name else match.group(0), "the address between the angle brackets recovered"
    return None, ""


def return_path(value: str | None) -> str | None:
    """The Return-Path address, ``""`` for ``<>``, None when absent."""
    if value is None:
        return None
    match = re.search(r"<([^<>]*)>", value)
    return clean((match.group(1) if match else value).strip().lower()[:320])
