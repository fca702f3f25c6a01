"""Register completeness on the ZGW backend: a zaak removed from the zaaksysteem is reported, never silently re-made."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from support.labels import HeaderLabels
from support.mail import make_mail
from support.zgw_server import TEST_SECRET, ZgwServer

from klachtwacht.queries import list_register
from klachtwacht.reconcile.command import run_nightly
from klachtwacht.runtime import run_ingest_once

pytestmark = pytest.mark.dovecot
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def _register_table(values: dict[str, Any]) -> str:
    lines = ["[register]", 'backend = "zgw"']
    for key, value in values.items():
        lines.append('%s = "%s"' % (key, value) if isinstance(value, str) else "%s = %s" % (key, value))
    return "\n".join(lines)


def test_a_zaak_deleted_from_the_zaaksysteem_is_reported_with_its_register_number_and_not_remade(
    setup: Any, dovecot: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KW_ZGW_SECRET", TEST_SECRET)
    for i in range(2):
        dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht %d [label:klacht p=0.97]" % i, body="Tekst %d" % i,
                                                       sender="Burger <b%d@example.nl>" % i, message_id="<zaak%d@example.nl>" % i), msg_time=RECEIVED)
    with ZgwServer() as zgw:
        setup.dovecot = dovecot
        setup.mailbox("wethouder-devries", "wethouder")
        setup.extra = _register_table(zgw.register_options()) + '\n[reconcile]\nreport_dir = "rapporten"'
        app = setup.app(HeaderLabels())
        try:
            assert run_ingest_once(app)["not_final"] == 0
            register = sorted(list_register(app.sessions), key=lambda r: r["number"])
            assert len(register) == 2 and len(zgw.zaken) == 2
            clean, _ = run_nightly(app, date(2026, 3, 3), mail=False)
            assert clean.report.findings == ()
            gone = register[0]
            zgw.delete_zaak(gone["external_ref"])
            posts_before = len(zgw.posts())

            result, files = run_nightly(app, date(2026, 3, 3), mail=False)

            missing = [f for f in result.report.findings if f.kind == "register_zaak_missing"]
            assert len(missing) == 1 and missing[0].severity == "critical" and not missing[0].repaired
            assert gone["number"] in missing[0].detail and "zaak verdwenen uit het zaaksysteem" in missing[0].detail
            assert len(missing[0].messages) == 1 and missing[0].mailbox == "wethouder-devries"
            assert result.report.exit_code == 1
            assert len(zgw.posts()) == posts_before and len(zgw.zaken) == 1  # reported, not silently re-made
            assert gone["external_ref"] not in zgw.zaken
            assert "Zaken verdwenen uit het zaaksysteem" in files.html.read_text(encoding="utf-8")
            detail_gets = [r for r in zgw.requests if r.method == "GET" and r.item is not None]
            assert {r.status for r in detail_gets} == {200, 404}
            assert zgw.spec_violations == [] and zgw.rejected == [r for r in zgw.rejected if ": 404 " in r]
        finally:
            app.close()


def test_a_zaaksysteem_that_cannot_answer_is_one_finding_and_nothing_is_called_missing(
    setup: Any, dovecot: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KW_ZGW_SECRET", TEST_SECRET)
    dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht [label:klacht p=0.97]", body="Tekst", sender="Burger <b@example.nl>",
                                                   message_id="<down@example.nl>"), msg_time=RECEIVED)
    with ZgwServer() as zgw:
        setup.dovecot = dovecot
        setup.mailbox("wethouder-devries", "wethouder")
        setup.extra = _register_table(zgw.register_options()) + '\n[reconcile]\nreport_dir = "rapporten"'
        app = setup.app(HeaderLabels())
        try:
            assert run_ingest_once(app)["not_final"] == 0
            zgw.fail_with(503)
            result, _ = run_nightly(app, date(2026, 3, 3), mail=False)
            kinds = [f.kind for f in result.report.findings]
            assert kinds == ["register_unreachable"] and "503" in result.report.findings[0].detail
        finally:
            zgw.recover()
            app.close()
