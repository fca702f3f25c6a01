"""The coordinator reads the nightly reports in the app; nobody else does, and no other file of the folder is served."""

from __future__ import annotations

from datetime import date

from review_site import Site

from klachtwacht.reconcile.command import report_folder
from klachtwacht.reconcile.findings import Report
from klachtwacht.reconcile.report import write_report
from klachtwacht.web.routes.reports import REPORT_CSP


def _nightly(site: Site) -> str:
    files = write_report(Report(date(2026, 12, 1), ()), (), report_folder(site.config), "Gemeente Veenstad")
    (report_folder(site.config) / "klachtwacht.db").write_text("not a report", encoding="utf-8")
    return files.html.name


def test_the_coordinator_opens_last_nights_report_and_its_csv_in_the_app(site: Site) -> None:
    name = _nightly(site)
    site.user("karin", role="coordinator")
    coordinator = site.signed_in("karin")
    listing = coordinator.get("/rapporten")
    assert listing.status_code == 200 and f'href="/rapporten/{name}"' in listing.text and "nachtelijke controle" in listing.text
    report = coordinator.get(f"/rapporten/{name}")
    assert report.status_code == 200 and "Gemeente Veenstad" in report.text
    assert report.headers["content-security-policy"] == REPORT_CSP and "<script" not in report.text
    csv = coordinator.get(f"/rapporten/{name.removesuffix('.html')}-bevindingen.csv")
    assert csv.status_code == 200 and csv.headers["content-disposition"].startswith("attachment")
    assert any(e.actor == "karin" and e.object == f"rapport {name}" and e.result == "ok" for e in site.audit("view-report"))


def test_a_secretary_gets_no_report_and_no_other_file_is_served(site: Site) -> None:
    name = _nightly(site)
    site.user("ria")
    site.user("karin", role="coordinator")
    secretary = site.signed_in("ria")
    assert secretary.get("/rapporten").status_code == 404
    assert secretary.get(f"/rapporten/{name}").status_code == 404
    coordinator = site.signed_in("karin")
    for other in ("klachtwacht.db", "..%2Fklachtwacht.toml", "controle-..%2F..%2Fklachtwacht.toml.html", "controle-2026-12-02.html"):
        assert coordinator.get(f"/rapporten/{other}").status_code == 404, other
    assert {e.result for e in site.audit("view-report") if e.actor == "ria"} == {"not-found"}
