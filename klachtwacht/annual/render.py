"""The annual overview as HTML (to publish), CSV (to work with) and JSON (for other systems)."""

from __future__ import annotations

import csv
import io
import json

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from klachtwacht.annual.figures import AnnualFigures, masked

__all__ = ["to_html", "to_csv", "to_json", "MONTHS_NL"]

MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")

_env = Environment(loader=PackageLoader("klachtwacht.annual", "templates"), autoescape=select_autoescape(["html", "jinja"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _tables(f: AnnualFigures) -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [
        ("organ", "Per bestuursorgaan", [(k, masked(v)) for k, v in f.by_organ.items()]),
        ("channel", "Per kanaal (mailbox)", [(k, masked(v)) for k, v in f.by_channel.items()]),
        ("category", "Per soort klacht", [(k, masked(v)) for k, v in f.by_category.items()]),
        ("month", "Per maand van ontvangst", [(MONTHS_NL[m - 1], masked(v)) for m, v in f.by_month.items()]),
        ("status", "Stand van de behandeling", [(k, masked(v)) for k, v in f.by_status.items()]),
        ("term", "Termijnen (Awb 9:11)", [(k, masked(v)) for k, v in f.by_term.items()]),
        ("policy", "Beleidsvragen per maand (geen klachten, apart geteld)", [(MONTHS_NL[m - 1], masked(v)) for m, v in f.policy_questions_by_month.items()]),
    ]


def to_html(f: AnnualFigures, organisation: str) -> str:
    return _env.get_template("annual.html.jinja").render(f=f, total=masked(f.total), policy=masked(f.policy_questions),
                                                          organisation=organisation, tables=_tables(f))


def to_csv(f: AnnualFigures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["jaar", "indeling", "categorie", "aantal"])
    writer.writerow([f.year, "totaal", "klachten", masked(f.total)])
    for key, _title, rows in _tables(f):
        for name, value in rows:
            writer.writerow([f.year, key, name, value])
    return out.getvalue()


def to_json(f: AnnualFigures) -> str:
    return json.dumps({"year": f.year, "total": masked(f.total), "policy_questions": masked(f.policy_questions),
                       **{key: dict(rows) for key, _title, rows in _tables(f)}}, ensure_ascii=False, indent=2)
