"""Attachments are always downloads: never shown inline, never sniffed, never a type a browser runs."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from klachtwacht.web.downloads import FALLBACK_NAME, attachment_response_headers, safe_filename

HOSTILE_TYPES = ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/javascript", "TEXT/HTML; charset=utf-8",
                 "multipart/x-mixed-replace", "application/x-shockwave-flash", "", "nonsense"]  # fmt: skip
NAMES = ["brief.pdf", "../../etc/passwd", "C:\\Users\\jan\\bezwaar.docx", 'a"; filename=evil.html', "rapport\r\nSet-Cookie: x=1.pdf",
         "inline.html", ".htaccess", "", "klacht één – 2026.pdf", "\u202egpj.exe", "x" * 400 + ".pdf", "bijlage;inline.txt"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ctype", HOSTILE_TYPES + ["application/pdf", "image/png", "text/plain"])
def test_an_attachment_is_always_a_download_never_inline(name: str, ctype: str) -> None:
    headers = attachment_response_headers(name, ctype)
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "inline" not in disposition.split(";")[0] and not re.search(r";\s*inline", disposition)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert all("\r" not in v and "\n" not in v for v in headers.values())
    assert disposition.isascii()
    ascii_name = re.match(r'attachment; filename="([^"\\]*)"', disposition)
    assert ascii_name is not None and "/" not in ascii_name.group(1)


@pytest.mark.parametrize("ctype", HOSTILE_TYPES)
def test_a_type_a_browser_could_run_is_sent_as_octet_stream(ctype: str) -> None:
    assert attachment_response_headers("x", ctype)["Content-Type"] == "application/octet-stream"


def test_known_safe_types_keep_their_type() -> None:
    assert attachment_response_headers("brief.pdf", "Application/PDF; name=brief.pdf")["Content-Type"] == "application/pdf"
    assert attachment_response_headers("foto.jpg", "image/jpeg")["Content-Type"] == "image/jpeg"


def test_a_unicode_name_is_sent_in_rfc_5987_beside_an_ascii_fallback() -> None:
    disposition = attachment_response_headers("klacht één – 2026.pdf", "application/pdf")["Content-Disposition"]
    fallback, star = disposition.split("; filename*=UTF-8''")
    assert fallback == 'attachment; filename="klacht een  2026.pdf"'
    assert unquote(star) == "klacht één – 2026.pdf"


def test_a_file_name_loses_its_directories_quotes_and_control_characters() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\jan\\bezwaar.docx") == "bezwaar.docx"
    assert safe_filename('a"; filename=evil.html') == "a__ filename=evil.html"
    assert safe_filename("rapport\r\nSet-Cookie: x=1.pdf") == "rapport__Set-Cookie_ x=1.pdf"
    assert safe_filename("\u202egpj.exe") == "gpj.exe"  # a right-to-left override cannot disguise the extension
    assert safe_filename(".htaccess") == "htaccess"
    assert safe_filename("") == safe_filename("...") == FALLBACK_NAME
    long = safe_filename("x" * 400 + ".pdf")
    assert len(long) == 150 and long.endswith(".pdf")
