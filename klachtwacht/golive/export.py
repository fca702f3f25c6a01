"""Reading a CSV export of the municipality's own complaints register: date, sender, subject.

The encoding (UTF-8, with or without BOM, else Windows-1252) and the
delimiter (``;``, ``,``, tab or ``|``) are sniffed. The columns are found by
their header, named on the command line (``--columns
date=Datum,sender=Afzender,subject=Onderwerp``). Dates are read day first, as
the Dutch write them (``2-3-2026``, ``02/03/2026 10:15``, ``2 maart 2026``)
or as ISO dates. Anything wrong raises :class:`RegisterExportError` naming
the file, the line and the column, before anything is matched.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from klachtwacht.errors import KlachtwachtError

__all__ = ["ExportRow", "RegisterExportError", "read_export", "parse_columns", "parse_day", "DEFAULT_COLUMNS"]

#: The fields klachtwacht needs, with the header it looks for when none is named.
DEFAULT_COLUMNS = {"date": "datum", "sender": "afzender", "subject": "onderwerp"}
_OPTIONAL = ("number",)
_MONTHS = {name: i + 1 for i, name in enumerate(
    ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"))}
_MONTHS.update({name[:3]: n for name, n in list(_MONTHS.items())})
_NUMERIC = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)?$")
_WORDS = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})(?:\s+\d{1,2}[:.]\d{2}(?::\d{2})?)?$")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
#: How many bad lines an error names before "and N more".
_SHOWN = 5


class RegisterExportError(KlachtwachtError):
    """Raised when a register export cannot be read: the message names the file, the line and the column."""


@dataclass(frozen=True)
class ExportRow:
    line: int  # the line in the file (the header is line 1)
    day: date
    sender: str  # as written
    address: str | None  # the e-mail address in it, lower case
    subject: str
    number: str | None = None


def parse_columns(spec: str | None) -> dict[str, str]:
    """``date=Datum,sender=Afzender,subject=Onderwerp`` -> field -> header; unnamed fields keep their default."""
    columns = dict(DEFAULT_COLUMNS)
    if not spec:
        return columns
    for part in spec.split(","):
        name, sep, header = part.partition("=")
        name, header = name.strip(), header.strip()
        if not sep or not header:
            raise RegisterExportError(f"--columns: {part!r} is not field=Column (e.g. date=Datum,sender=Afzender,subject=Onderwerp)")
        if name not in DEFAULT_COLUMNS and name not in _OPTIONAL:
            raise RegisterExportError(f"--columns: unknown field {name!r} (fields: {', '.join((*DEFAULT_COLUMNS, *_OPTIONAL))})")
        columns[name] = header
    return columns


def parse_day(text: str) -> date | None:
    """The date in ``text`` (day first, or ISO), or None when it is not one."""
    value = text.strip().lower()
    match = _NUMERIC.match(value)
    if match:
        a, b, c = (int(g) for g in match.groups())
        year, month, day = (a, b, c) if len(match.group(1)) == 4 else (c, b, a)
        if year < 100:
            year += 2000
    else:
        words = _WORDS.match(value)
        if not words or words.group(2) not in _MONTHS:
            return None
        day, month, year = int(words.group(1)), _MONTHS[words.group(2)], int(words.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegisterExportError(f"{path}: cannot read the file: {exc.strerror}") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _dialect(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        return max(";,\t|", key=header.count)


def read_export(path: str | Path, columns: Mapping[str, str] | None = None) -> list[ExportRow]:
    """Every row of the export; raises :class:`RegisterExportError` for a missing column or bad dates (all lines named)."""
    file = Path(path)
    columns = dict(columns or DEFAULT_COLUMNS)
    text = _decode(file)
    if not text.strip():
        raise RegisterExportError(f"{file}: the file is empty")
    reader = csv.reader(io.StringIO(text), delimiter=_dialect(text))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise RegisterExportError(f"{file}: line 1: not CSV ({exc})") from exc
    index = {name.strip().lower(): i for i, name in enumerate(header)}
    where: dict[str, int] = {}
    for field_name, column in columns.items():
        if column.strip().lower() not in index:
            if field_name in _OPTIONAL:
                continue
            shown = ", ".join(h.strip() for h in header) or "none"
            raise RegisterExportError(
                f"{file}: line 1: no column {column!r} for the {field_name} (columns: {shown}); name it with --columns {field_name}=<column>"
            )
        where[field_name] = index[column.strip().lower()]
    rows: list[ExportRow] = []
    bad: list[str] = []
    line = 1
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            cells = {name: (record[i].strip() if i < len(record) else "") for name, i in where.items()}
            day = parse_day(cells["date"])
            if day is None:
                bad.append(f"line {line}: {cells['date']!r}")
                continue
            address = _EMAIL.search(cells["sender"])
            rows.append(ExportRow(line, day, cells["sender"], address.group(0).lower() if address else None, cells["subject"], cells.get("number") or None))
    except csv.Error as exc:
        raise RegisterExportError(f"{file}: line {line}: not CSV ({exc})") from exc
    if bad:
        more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        raise RegisterExportError(
            f"{file}: column {columns['date']!r}: {len(bad)} rows without a readable date ({'; '.join(bad[:_SHOWN])}{more}); "
            "use dates such as 2-3-2026, 02/03/2026 or 2026-03-02"
        )
    return rows
