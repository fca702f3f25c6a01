"""Reading a municipality's register export: encodings, delimiters, Dutch dates, and errors that name the line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from klachtwacht.golive.export import RegisterExportError, parse_columns, parse_day, read_export

COLUMNS = parse_columns("date=Datum ontvangst,sender=Afzender,subject=Onderwerp")


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "register.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "text, day",
    [("2026-03-02", date(2026, 3, 2)), ("2-3-2026", date(2026, 3, 2)), ("02/03/2026 10:15", date(2026, 3, 2)),
     ("02.03.26", date(2026, 3, 2)), ("2 maart 2026", date(2026, 3, 2)), ("12 okt. 2025", date(2025, 10, 12)), ("12 okt 2025", date(2025, 10, 12)),
     ("31-02-2026", None), ("morgen", None), ("", None)],
)
def test_dates_are_read_day_first_as_the_dutch_write_them(text: str, day: date | None) -> None:
    assert parse_day(text) == day


def test_a_windows_1252_export_with_semicolons_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "Nummer;Datum ontvangst;Afzender;Onderwerp\r\nK-1;2-3-2026;José Müller <jose@example.nl>;Geluidsoverlast café\r\n", "cp1252")
    rows = read_export(path, COLUMNS)
    assert [(r.line, r.day, r.address, r.subject) for r in rows] == [(2, date(2026, 3, 2), "jose@example.nl", "Geluidsoverlast café")]
    assert rows[0].sender == "José Müller <jose@example.nl>"


def test_a_utf8_export_with_a_bom_and_commas_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, '\ufeffDatum ontvangst,Afzender,Onderwerp\n2026-03-02,"Bakker, P.",Klacht over de balie\n')
    rows = read_export(path, COLUMNS)
    assert [(r.sender, r.address, r.subject) for r in rows] == [("Bakker, P.", None, "Klacht over de balie")]


def test_a_missing_column_names_the_file_the_column_and_the_columns_there_are(tmp_path: Path) -> None:
    path = _write(tmp_path, "Datum;Van;Onderwerp\n2-3-2026;x;y\n")
    with pytest.raises(RegisterExportError) as caught:
        read_export(path, COLUMNS)
    message = str(caught.value)
    assert str(path) in message and "line 1" in message and "'Datum ontvangst'" in message and "Datum, Van, Onderwerp" in message


def test_ten_thousand_rows_with_some_messy_dates_name_the_bad_lines_and_read_nothing(tmp_path: Path) -> None:
    lines = ["Datum ontvangst;Afzender;Onderwerp"] + [f"{1 + i % 28}-{1 + i % 12}-2025;a{i}@example.nl;Onderwerp {i}" for i in range(10_000)]
    lines[17] = "zeventien;x@example.nl;kapot"
    lines[9000] = "2025-13-45;y@example.nl;kapot"
    with pytest.raises(RegisterExportError) as caught:
        read_export(_write(tmp_path, "\n".join(lines) + "\n"), COLUMNS)
    message = str(caught.value)
    assert "2 rows without a readable date" in message and "line 18: 'zeventien'" in message and "line 9001: '2025-13-45'" in message


def test_a_column_spec_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(RegisterExportError, match="unknown field 'ontvanger'"):
        parse_columns("ontvanger=Aan")
