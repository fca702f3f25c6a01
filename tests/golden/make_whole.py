"""Writes the messages of ``tests/golden/whole/`` (run from the repository root: ``python tests/golden/make_whole.py``).

Every message here is written for klachtwacht: citizens, addresses and
letters are made up. The expected parse beside each (``NAME.json``) was
checked by hand field by field; ``--expect`` writes the parser's current
output there for a new case, to be checked the same way before committing.
"""

from __future__ import annotations

import base64
import binascii
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import documents  # noqa: E402

WHOLE = HERE / "whole"
LETTER = [
    "Geachte wethouder,",
    "",
    "Ik ben zeer ontevreden over de behandeling van mijn melding.",
    "Al drie maanden ligt er een kapotte stoeptegel voor mijn deur",
    "en niemand van de gemeente heeft gereageerd. Dit is mijn klacht.",
    "",
    "Met vriendelijke groet,",
    "Marieke Bakker",
]


def head(subject: bytes, mid: str, sender: bytes = b"Marieke Bakker <marieke.bakker@example.nl>", extra: bytes = b"") -> bytes:
    return (
        b"From: " + sender + b"\r\n"
        b"To: wethouder.devries@gemeente-veenstad.nl\r\n"
        b"Subject: " + subject + b"\r\n"
        b"Date: Thu, 01 May 2025 09:30:00 +0200\r\n"
        b"Message-ID: <" + mid.encode() + b"@example.nl>\r\n" + extra
    )


def text_mail(subject: bytes, mid: str, body: bytes, charset: str, *, sender: bytes | None = None, cte: str = "8bit") -> bytes:
    return (
        head(subject, mid, **({"sender": sender} if sender else {}))
        + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        + b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n" + body
    )  # fmt: skip


def with_attachment(mid: str, ctype: str, filename: bytes, data: bytes, body: bytes = b"Zie bijlage.\r\n", subject: bytes = b"Klacht") -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (
        head(subject, mid)
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="grens"\r\n\r\n'
        + b"--grens\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
        + b"--grens\r\nContent-Type: " + ctype.encode() + b'; name="' + filename + b'"\r\n'
        + b'Content-Disposition: attachment; filename="' + filename + b'"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--grens--\r\n"
    )  # fmt: skip


def _png_header_only(width: int, height: int) -> bytes:
    """The first bytes of a PNG that claims ``width`` x ``height`` pixels (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", binascii.crc32(chunk))
        + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", binascii.crc32(b"IDAT" + idat))
    )  # fmt: skip


def _zip_bomb_docx() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", date_time=(2025, 5, 1, 12, 0, 0)), "<Types/>")
        info = zipfile.ZipInfo("word/document.xml", date_time=(2025, 5, 1, 12, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, b"<w:document>" + b" " * 8_000_000 + b"</w:document>")
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(documents.pdf(LETTER))))
    writer.encrypt(user_password="geheim", owner_password="nog-geheimer", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _forward_as_attachment() -> bytes:
    inner = (
        b"From: Marieke Bakker <marieke.bakker@example.nl>\r\nTo: info@gemeente-veenstad.nl\r\n"
        b"Subject: Kapotte stoeptegel\r\nDate: Mon, 03 Feb 2025 08:00:00 +0100\r\nMessage-ID: <inner-1@example.nl>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "\r\n".join(LETTER).encode("utf-8") + b"\r\n"
    )  # fmt: skip
    return (
        head(b"FW: Kapotte stoeptegel", "forward-attached", sender=b"Secretariaat <secretariaat@gemeente-veenstad.nl>")
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="grens"\r\n\r\n'
        + b"--grens\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTer info, zie bijlage.\r\n"
        + b'--grens\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="Kapotte stoeptegel.eml"\r\n\r\n'
        + inner + b"--grens--\r\n"
    )  # fmt: skip


def _forward_with_its_pdf() -> bytes:
    inner = (
        b"From: Marieke Bakker <marieke.bakker@example.nl>\r\nTo: info@gemeente-veenstad.nl\r\n"
        b"Subject: Brief\r\nDate: Mon, 03 Feb 2025 08:00:00 +0100\r\nMessage-ID: <inner-2@example.nl>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="binnen"\r\n\r\n'
        b"--binnen\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZie bijlage.\r\n"
        b'--binnen\r\nContent-Type: application/pdf; name="brief.pdf"\r\nContent-Disposition: attachment; filename="brief.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(documents.pdf(LETTER)).replace(b"\n", b"\r\n") + b"--binnen--\r\n"
    )  # fmt: skip
    return (
        head(b"FW: Brief", "forward-with-pdf", sender=b"Secretariaat <secretariaat@gemeente-veenstad.nl>")
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="grens"\r\n\r\n'
        + b"--grens\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTer info.\r\n"
        + b'--grens\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="Brief.eml"\r\n\r\n'
        + inner + b"--grens--\r\n"
    )  # fmt: skip


CASES: dict[str, Callable[[], bytes]] = {
    # -- decoding
    "utf8_with_one_stray_byte": lambda: text_mail(b"Klacht over het caf\xc3\xa9", "stray", "Eén, café en één terras: de stoelen staan al weken op de stoep.\r\n".encode() .replace(b"terras", b"terr\xe0s"), "utf-8"),
    "gb2312_label_on_gbk_bytes": lambda: text_mail(b"=?gb2312?b?" + base64.b64encode("关于朱镕基路的投诉".encode("gbk")) + b"?=", "gbk", "朱镕基路的垃圾三周没有收了。\r\n".encode("gbk"), "gb2312"),
    "big5_label_on_hkscs_bytes": lambda: text_mail(b"Klacht", "hkscs", "我哋嘅垃圾冇人收。\r\n".encode("big5hkscs"), "big5"),
    "shift_jis_label_on_cp932_bytes": lambda: text_mail(b"Klacht", "cp932", "①ゴミの収集がありません。\r\n".encode("cp932"), "shift_jis"),
    "iso_2022_jp_with_extensions": lambda: text_mail(b"Klacht", "jis", b"\x1b$B-!\x1b(B \x1b(I12\x1b(B\r\n", "iso-2022-jp", cte="7bit"),
    "iso_8859_1_label_on_windows_1252_bytes": lambda: text_mail(b"Klacht", "cp1252", "De boete van €\u00a090 is “onterecht”.\r\n".encode("cp1252"), "iso-8859-1"),
    "raw_8bit_subject_in_the_body_charset": lambda: text_mail(b"Klacht over het caf\xe9", "raw-subject", "Het terras van het café is te groot.\r\n".encode("cp1252"), "windows-1252"),
    "raw_8bit_cyrillic_subject_without_any_charset": lambda: text_mail("Жалоба на вывоз мусора".encode("koi8-r"), "raw-koi8", b"See subject.\r\n", "us-ascii"),
    "raw_8bit_chinese_subject_without_any_charset": lambda: text_mail("关于垃圾收集的投诉".encode("gbk"), "raw-gbk", b"See subject.\r\n", "us-ascii"),
    "iso_8859_2_label_on_windows_1250_bytes": lambda: text_mail(b"Skarga", "cp1250", "Wywóz śmieci – „nie działa”.\r\n".encode("cp1250"), "iso-8859-2"),
    "encoded_word_holding_raw_8bit_bytes": lambda: text_mail(b"=?iso-8859-1?q?Klacht_caf\xe9?=", "ew-8bit", b"Zie onderwerp.\r\n", "us-ascii"),
    "quoted_encoded_words_in_display_name": lambda: text_mail(b"Klacht", "quoted-ew", b"Geen antwoord gekregen.\r\n", "us-ascii", sender=b'"=?utf-8?q?Jo=C3=ABl_van_den_Berg?=" <joel.vandenberg@example.nl>'),
    "raw_8bit_display_name_and_file_name": lambda: (
        head(b"Klacht", "raw-names", sender=b"Ren\xe9 M\xfcller <rene.muller@example.nl>")
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="grens"\r\n\r\n'
        + b"--grens\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nZie bijlage.\r\n"
        + b'--grens\r\nContent-Type: text/plain; charset=iso-8859-1; name="klacht caf\xe9.txt"\r\n'
        + b'Content-Disposition: attachment; filename="klacht caf\xe9.txt"\r\n\r\n'
        + "Het café maakt elke nacht lawaai. Ik dien een klacht in.\r\n".encode("latin-1")
        + b"--grens--\r\n"
    ),
    # -- recovery
    "leading_byte_order_mark": lambda: b"\xef\xbb\xbf" + text_mail(b"Klacht", "bom", b"Er is nooit gereageerd op mijn brief.\r\n", "utf-8"),
    "leading_spaces": lambda: b"   \r\n  " + text_mail(b"Klacht", "spaces", b"Er is nooit gereageerd op mijn brief.\r\n", "utf-8"),
    "forwarding_banner_before_headers": lambda: b"---- Original email message ----\r\n" + text_mail(b"Klacht", "banner", b"Er is nooit gereageerd op mijn brief.\r\n", "utf-8"),
    "header_folded_without_indentation": lambda: (
        head(b"Klacht over de vuilnisophaal\r\nin de Lindelaan", "unindented")
        .replace(b"Date:", b"X-Mailer: Formulier 2.1\r\nDate:")
        + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes("De container is al drie weken niet geleegd. Dit is een klacht.\r\n".encode()).replace(b"\n", b"\r\n")
    ),
    "two_from_headers_first_without_address": lambda: text_mail(b"Klacht", "two-from", b"Niemand neemt de telefoon op.\r\n", "utf-8").replace(
        b"From: Marieke", b"From: webformulier\r\nFrom: Marieke"
    ),
    "sender_with_a_trailing_dot": lambda: text_mail(b"Klacht", "trailing-dot", b"Niemand neemt de telefoon op.\r\n", "utf-8", sender=b"Marieke Bakker <marieke.bakker@example.nl.>"),
    "sender_without_angle_brackets": lambda: text_mail(b"Klacht", "no-brackets", b"Niemand neemt de telefoon op.\r\n", "utf-8", sender=b"Marieke Bakker marieke.bakker@example.nl"),
    # -- attachments
    "complaint_as_pdf": lambda: with_attachment("pdf", "application/pdf", b"brief.pdf", documents.pdf(LETTER)),
    "complaint_as_docx": lambda: with_attachment("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"brief.docx", documents.docx(LETTER)),
    "complaint_as_odt": lambda: with_attachment("odt", "application/vnd.oasis.opendocument.text", b"brief.odt", documents.odt(LETTER)),
    "complaint_as_rtf": lambda: with_attachment("rtf", "application/rtf", b"brief.rtf", documents.rtf(LETTER)),
    "complaint_as_html_attachment": lambda: with_attachment("html", "text/html", b"brief.html", ("<html><body>" + "".join("<p>%s</p>" % line for line in LETTER if line) + "</body></html>").encode()),
    "complaint_as_text_attachment": lambda: with_attachment("txt", "text/plain", b"brief.txt", "\r\n".join(LETTER).encode("utf-8")),
    "complaint_forwarded_as_attachment": _forward_as_attachment,
    "complaint_forwarded_as_attachment_with_its_pdf": _forward_with_its_pdf,
    "complaint_as_outlook_msg": lambda: with_attachment("msg", "application/vnd.ms-outlook", b"Kapotte stoeptegel.msg", documents.msg("Kapotte stoeptegel", "Marieke Bakker", "marieke.bakker@example.nl", "\r\n".join(LETTER))),
    "complaint_as_photographed_letter": lambda: with_attachment("photo", "image/jpeg", b"IMG_0412.jpg", documents.letter_image(LETTER)[0], body=b""),
    "complaint_as_iphone_heic_photo": lambda: with_attachment("heic", "image/heic", b"IMG_0413.HEIC", documents.letter_image(LETTER, rotate=-0.7, noise=3, seed=5, fmt="HEIF")[0], body=b"Zie foto\r\n"),
    "complaint_as_scanned_pdf": lambda: with_attachment("scan", "application/pdf", b"scan.pdf", documents.scanned_pdf(LETTER), body=b"zie bijlage\r\n"),
    # -- hostile attachments
    "encrypted_pdf": lambda: with_attachment("encrypted", "application/pdf", b"beveiligd.pdf", _encrypted_pdf()),
    "broken_pdf": lambda: with_attachment("broken", "application/pdf", b"kapot.pdf", documents.pdf(LETTER)[:300]),
    "zip_bomb_docx": lambda: with_attachment("zipbomb", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"groot.docx", _zip_bomb_docx()),
    "image_claiming_a_billion_pixels": lambda: with_attachment("pixelbomb", "image/png", b"foto.png", _png_header_only(40_000, 30_000)),
}


def main() -> None:
    expect = "--expect" in sys.argv
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or list(CASES)
    WHOLE.mkdir(exist_ok=True)
    for name in names:
        path = WHOLE / (name + ".eml")
        path.write_bytes(CASES[name]())
        if expect:
            import json

            sys.path.insert(0, str(HERE.parents[1]))
            from ingest.parse import parse_message
            from ingest.records import parsed_to_dict

            record = parsed_to_dict(parse_message(path.read_bytes()))
            path.with_suffix(".json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(name, path.stat().st_size)


if __name__ == "__main__":
    main()
