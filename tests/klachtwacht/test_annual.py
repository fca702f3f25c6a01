"""The Awb 9:12a annual overview: aggregates only, small cells masked, terms counted right."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import pytest
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.annual.figures import ComplaintRow, annual_figures, masked
from klachtwacht.annual.render import to_csv, to_html, to_json
from klachtwacht.cli import main
from klachtwacht.runtime import run_ingest_once


def _row(received: date, **kw: Any) -> ComplaintRow:
    values: dict[str, Any] = dict(due=date(received.year, received.month, 28), extended_due=None, status="open", organ="wethouder",
                                  channel="wethouder-devries", category="bejegening")
    values.update(kw)
    return ComplaintRow(received=received, **values)


def test_counts_from_1_to_4_are_masked_and_0_and_5_are_not() -> None:
    assert [masked(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


def test_terms_are_open_late_extended_or_met_as_the_dates_say() -> None:
    today = date(2026, 12, 2)
    rows = [
        _row(date(2026, 3, 2), due=date(2026, 4, 13)),  # open, overdue
        _row(date(2026, 11, 20), due=date(2027, 1, 4)),  # open, in time
        _row(date(2026, 10, 1), due=date(2026, 11, 12), extended_due=date(2026, 12, 10)),  # extended, still in time
        _row(date(2026, 5, 1), due=date(2026, 6, 12), closed=date(2026, 6, 1)),
        _row(date(2026, 5, 1), due=date(2026, 6, 12), closed=date(2026, 6, 20)),
    ]
    f = annual_figures(2026, rows, [], today)
    assert f.by_term == {
        "nog in behandeling, termijn verstreken": 1, "nog in behandeling, binnen de termijn": 1, "termijn verdaagd (Awb 9:11 lid 2)": 1,
        "afgehandeld binnen de termijn": 1, "afgehandeld na de termijn": 1,
    }


def test_only_the_years_complaints_count_and_policy_questions_stay_apart() -> None:
    rows = [_row(date(2025, 12, 31)), *[_row(date(2026, 1, 5)) for _ in range(6)], _row(date(2027, 1, 1))]
    f = annual_figures(2026, rows, [1, 1, 2], date(2026, 12, 2))
    assert f.total == 6 and f.by_month[1] == 6 and f.by_month[12] == 0
    assert f.policy_questions == 3 and f.policy_questions_by_month[2] == 1
    published = json.loads(to_json(f))
    assert published["total"] == "6" and published["policy"]["februari"] == "<5" and published["month"]["januari"] == "6"
    assert "wethouder-devries;6" in to_csv(f).replace("\r", "")
    html = to_html(f, "Gemeente Veenstad")
    assert "Overzicht van klachten 2026" in html and "9:12a" in html


pytestmark = [pytest.mark.dovecot]


def test_the_command_reports_a_real_year_from_the_register_with_small_cells_masked(setup: Any, dovecot: Any, smtp: Any, capsys: Any) -> None:
    when = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    for n in range(6):
        dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht [label:klacht p=0.97 sub=bejegening]", body="Klacht %d" % n,
                                                     sender="B%d <b%d@example.nl>" % (n, n), message_id="<w%d@example.nl>" % n), msg_time=when)
    for n in range(2):
        dovecot.append("raad", "INBOX", make_mail(subject="Klacht [label:klacht p=0.97 sub=vertraging]", body="Raad %d" % n,
                                                sender="R%d <r%d@example.nl>" % (n, n), message_id="<r%d@example.nl>" % n), msg_time=when)
    dovecot.append("raad", "INBOX", make_mail(subject="Vraag [label:beleidsvraag p=0.95]", body="Vraag", message_id="<p1@example.nl>"), msg_time=when)
    setup.dovecot, setup.smtp = dovecot, smtp
    setup.mailbox("wethouder-devries", "wethouder")
    setup.mailbox("griffie", "raad", role="raad")
    app = setup.app(HeaderLabels())
    try:
        assert run_ingest_once(app)["not_final"] == 0
    finally:
        app.close()
    config = str(setup.tmp_path / "klachtwacht.toml")
    assert main(["--config", config, "report", "annual", "--year", "2026", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == "8"
    assert data["organ"] == {"wethouders": "6", "gemeenteraad (griffie)": "<5"}
    assert data["category"] == {"bejegening": "6", "vertraging": "<5"}
    assert data["month"]["maart"] == "8" and data["policy_questions"] == "<5"
    out = setup.tmp_path / "jaar.html"
    assert main(["--config", config, "report", "annual", "--year", "2026", "--output", str(out)]) == 0
    from support.browser import axe_violations, browser_page

    with browser_page() as page:
        page.goto(out.as_uri())
        assert page.locator("table").count() == 7
        assert axe_violations(page) == []
