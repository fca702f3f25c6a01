"""The review app in Debian's chromium: keyboard only, a complaint decided end to end, undo, and axe on every page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from live_server import serving
from review_site import PASSWORD, Site
from sqlalchemy import select
from support.browser import axe_violations, browser_page
from support.smtp import SmtpSink

from klachtwacht.db.models import RegisterEntry
from klachtwacht.reconcile.command import report_folder
from klachtwacht.reconcile.findings import Report
from klachtwacht.reconcile.report import write_report


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpSink) -> Iterator[Site]:
    """The browser tests run on SQLite (the server tests cover PostgreSQL)."""
    made = Site(tmp_path, f"sqlite:///{tmp_path / 'kw.db'}", smtp)
    try:
        yield made
    finally:
        made.close()


def _sign_in_by_keyboard(page: Any, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")  # autofocus
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")


def test_a_secretary_reviews_her_queue_by_keyboard_alone_and_the_complaint_reaches_the_register_and_the_smtp_server(site: Site, smtp: SmtpSink) -> None:
    site.user("ria")
    first, second = site.store(subject="Eerste klacht"), site.store(subject="Tweede bericht")
    with serving(site.app()) as base, browser_page() as page:
        _sign_in_by_keyboard(page, base, "ria")
        page.keyboard.press("?")
        assert page.locator("#kw-help").is_visible()
        page.keyboard.press("Escape")
        page.keyboard.press("n")  # the first message of the queue
        page.wait_for_url(f"{base}/berichten/{first}")
        page.keyboard.press("1")
        assert page.locator("#label-klacht").is_checked()
        page.keyboard.press("Enter")  # "Opslaan en volgende"
        page.wait_for_url(f"{base}/berichten/{second}?gedaan={first}")
        assert "Het vorige bericht is opgeslagen" in page.content()
        page.keyboard.press("3")
        page.keyboard.press("ArrowDown")  # the sub-type list has the focus: the first kind
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/?klaar=1")
        assert "er wacht niets meer" in page.content()
        with site.sessions() as session:
            entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == first))
        assert entry is not None
        page.goto(f"{base}/berichten/{first}")
        assert entry.number in page.content()
    assert site.state(second) == "done"
    assert any("ria@example.nl" in m.rcpt_tos for m in smtp.wait_for(1))


def test_a_decision_is_undone_in_the_browser_while_its_effects_are_planned(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    with serving(site.app(kick=lambda pk: None)) as base, browser_page() as page:
        _sign_in_by_keyboard(page, base, "ria")
        page.goto(f"{base}/berichten/{pk}")
        page.get_by_label("Klacht").check()
        page.get_by_role("button", name="Opslaan", exact=True).click()
        page.wait_for_url(f"{base}/berichten/{pk}?gedaan=besluit")
        page.get_by_role("button", name="Besluit terugdraaien").click()
        page.wait_for_url(f"{base}/berichten/{pk}?gedaan=teruggedraaid")
        assert "wacht weer op een oordeel" in page.content()
    assert site.state(pk) == "review"


def test_single_key_shortcuts_can_be_switched_off(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    with serving(site.app()) as base, browser_page() as page:
        _sign_in_by_keyboard(page, base, "ria")
        page.goto(base + "/instellingen")
        page.get_by_label("Uit").check()
        page.get_by_role("button", name="Opslaan").click()
        page.goto(f"{base}/berichten/{pk}")
        page.locator("body").press("3")
        assert not page.locator("#label-overig").is_checked() and page.locator("#label-klacht").is_checked()
        assert "<kbd>1</kbd>" not in page.content()


def test_axe_finds_no_serious_or_critical_violation_on_any_page(site: Site) -> None:
    site.user("ria")
    site.user("karin", role="coordinator")
    site.user("bea", role="beheerder")
    pk = site.store()
    report = write_report(Report(date(2026, 12, 1), ()), (), report_folder(site.config), "Gemeente Veenstad").html.name
    problems: dict[str, list[str]] = {}

    def check(page: Any, name: str) -> None:
        found = axe_violations(page)
        if found:
            problems[name] = [f"{v['id']}: {v['help']} ({len(v['nodes'])}x) {v['nodes'][0]['target']}" for v in found]

    with serving(site.app(kick=lambda pk: None)) as base:
        with browser_page(bypass_csp=True) as page:
            page.goto(base + "/login")
            check(page, "login")
            page.fill("#username", "nobody")
            page.fill("#password", "fout")
            page.click("button[type=submit]")
            check(page, "login with an error")
            _sign_in_by_keyboard(page, base, "ria")
            check(page, "queue")
            page.goto(f"{base}/berichten/{pk}")
            check(page, "message")
            page.goto(f"{base}/berichten/{pk}/inhoud")
            check(page, "message body")
            page.goto(base + "/instellingen")
            check(page, "settings")
            page.goto(base + "/berichten/999999")
            check(page, "not found")
        with browser_page(bypass_csp=True) as page:
            _sign_in_by_keyboard(page, base, "karin")
            check(page, "coordinator queue")
            page.goto(base + "/overzicht")
            check(page, "overview")
            page.goto(base + "/audit")
            check(page, "audit log")
            page.goto(base + "/rapporten")
            check(page, "reports")
            page.goto(base + f"/rapporten/{report}")
            check(page, "last night's report")
        with browser_page(bypass_csp=True) as page:
            page.goto(base + "/login")
            page.fill("#username", "bea")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/beheer")
            check(page, "accounts")
    assert problems == {}
