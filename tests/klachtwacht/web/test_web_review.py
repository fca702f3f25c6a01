"""Reviewing in the app: who sees what, deciding, the second tab, "Opslaan en volgende", undo, bulk, the coordinator's pages."""

from __future__ import annotations

import re
from datetime import datetime

from review_site import Site, csrf_of
from sqlalchemy import func, select
from support.smtp import SmtpSink

from klachtwacht.db.models import RegisterEntry, ReviewDecision
from rules.deadlines import complaint_terms, local_date


def _decide(client: object, pk: int, **data: str) -> object:
    page = client.get(f"/berichten/{pk}")  # type: ignore[attr-defined]
    assert page.status_code == 200, page.text
    return client.post(f"/berichten/{pk}/besluit", data={"csrf_token": csrf_of(page.text), **data})  # type: ignore[attr-defined]


def test_a_secretary_cannot_open_another_mailboxs_message(site: Site) -> None:
    site.user("ria", mailboxes=("wethouder-devries",))
    theirs = site.store("griffie", subject="Klacht aan de raad")
    client = site.signed_in("ria")
    response = client.get(f"/berichten/{theirs}")
    assert response.status_code == 404 and "Klacht aan de raad" not in response.text
    assert client.get("/berichten/999999").status_code == 404  # the same answer as for a message that does not exist
    lines = [(e.actor, e.action, e.object, e.result) for e in site.audit("view-message")]
    assert ("ria", "view-message", f"message {theirs}", "not-found") in lines


def test_a_secretary_cannot_decide_another_mailboxs_message_by_posting_its_id(site: Site) -> None:
    site.user("ria", mailboxes=("wethouder-devries",))
    mine, theirs = site.store(), site.store("griffie")
    client = site.signed_in("ria")
    token = csrf_of(client.get(f"/berichten/{mine}").text)
    response = client.post(f"/berichten/{theirs}/besluit", data={"csrf_token": token, "label": "overig", "soort_overig": "nieuwsbrief"})
    assert response.status_code == 404 and site.state(theirs) == "review"
    assert any(e.object == f"message {theirs}" and e.result == "not-found" for e in site.audit("decide"))


def test_the_queue_shows_her_own_mailboxes_oldest_first_with_counts_and_the_awb_term(site: Site) -> None:
    from datetime import timedelta

    from review_site import RECEIVED

    site.user("ria", mailboxes=("wethouder-devries",))
    newer = site.store(subject="Nieuwere klacht")
    older = site.store(subject="Oudere klacht", received=RECEIVED - timedelta(days=2))
    site.store("griffie", subject="Niet van haar")
    page = site.signed_in("ria").get("/").text
    assert page.index("Oudere klacht") < page.index("Nieuwere klacht")
    assert "Niet van haar" not in page and f"/berichten/{older}" in page and f"/berichten/{newer}" in page
    assert re.search(r"wethouder-devries <span class=\"kw-count\">2</span>", page)
    # six weeks from receipt, rolled past a weekend or holiday: 37 days left after the 5 gone, a few more when rolled
    due = complaint_terms(RECEIVED - timedelta(days=2)).due
    left = (due - local_date(datetime.now().astimezone())).days
    assert 37 <= left <= 41
    assert f"nog {left} dagen" in page


def test_deciding_a_complaint_registers_it_and_the_letter_reaches_the_smtp_server(site: Site, smtp: SmtpSink) -> None:
    site.user("ria")
    pk = site.store()
    client = site.signed_in("ria")
    response = _decide(client, pk, label="klacht", reden="duidelijk een klacht", volgende="0")
    assert response.status_code == 303, response.text
    with site.sessions() as session:
        entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == pk))
        decision = session.scalar(select(ReviewDecision).where(ReviewDecision.message_pk == pk))
    assert entry is not None and entry.number.startswith("KL-")
    assert decision is not None and (decision.actor, decision.final_label, decision.predicted_label) == ("ria", "klacht", "klacht")
    letters = smtp.wait_for(1)
    assert any("ria@example.nl" in m.rcpt_tos for m in letters)
    page = client.get(f"/berichten/{pk}").text
    assert entry.number in page and "Uw besluit is opgeslagen" not in page
    assert ("ria", "ok") in [(e.actor, e.result) for e in site.audit("decide")]


def test_a_second_tab_deciding_the_same_message_gets_a_dutch_message_and_nothing_changes_twice(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    client = site.signed_in("ria", kick=lambda pk: None)
    first_tab = client.get(f"/berichten/{pk}").text
    second_tab = client.get(f"/berichten/{pk}").text
    assert client.post(f"/berichten/{pk}/besluit", data={"csrf_token": csrf_of(first_tab), "label": "klacht"}).status_code == 303
    again = client.post(f"/berichten/{pk}/besluit", data={"csrf_token": csrf_of(second_tab), "label": "overig", "soort_overig": "nieuwsbrief"})
    assert again.status_code == 409 and "al behandeld" in again.text
    with site.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewDecision).where(ReviewDecision.message_pk == pk)) == 1
    assert [e.result for e in site.audit("decide")] == ["ok", "conflict"]


def test_save_and_next_follows_the_filtered_queue(site: Site) -> None:
    site.user("ria", mailboxes=("wethouder-devries", "griffie"))
    first = site.store(subject="Eerste")
    site.store("griffie", subject="Van de griffie")
    third = site.store(subject="Derde")
    client = site.signed_in("ria", kick=lambda pk: None)
    page = client.get(f"/berichten/{first}?postbus=wethouder-devries").text
    response = client.post(f"/berichten/{first}/besluit", data={
        "csrf_token": csrf_of(page), "label": "overig", "soort_overig": "nieuwsbrief", "volgende": "1", "postbus": "wethouder-devries"})
    assert response.status_code == 303 and response.headers["location"].startswith(f"/berichten/{third}?")
    last = client.get(response.headers["location"]).text
    done = client.post(f"/berichten/{third}/besluit", data={
        "csrf_token": csrf_of(last), "label": "overig", "soort_overig": "nieuwsbrief", "volgende": "1", "postbus": "wethouder-devries"})
    assert done.headers["location"].startswith("/?klaar=1")


def test_an_incomplete_decision_is_told_in_dutch_and_changes_nothing(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    response = _decide(site.signed_in("ria"), pk, label="beleidsvraag")
    assert response.status_code == 400 and "wie de vraag beantwoordt" in response.text and site.state(pk) == "review"


def test_a_decision_can_be_undone_while_its_effects_are_still_planned(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    client = site.signed_in("ria", kick=lambda pk: None)
    assert _decide(client, pk, label="klacht").status_code == 303
    assert site.state(pk) == "decided"
    page = client.get(f"/berichten/{pk}").text
    decision = re.search(r'name="besluit" value="(\d+)"', page)
    assert decision, "an undo button"
    response = client.post(f"/berichten/{pk}/terugdraaien", data={"csrf_token": csrf_of(page), "besluit": decision.group(1)})
    assert response.status_code == 303 and site.state(pk) == "review"
    assert [e.result for e in site.audit("undo")] == ["ok"]


def test_bulk_decisions_mark_only_the_selected_messages_overig(site: Site) -> None:
    site.user("ria")
    a, b, c = site.store(subject="Nieuwsbrief 1"), site.store(subject="Nieuwsbrief 2"), site.store(subject="Echte klacht")
    client = site.signed_in("ria", kick=lambda pk: None)
    page = client.get("/").text
    response = client.post("/in-een-keer", data={"csrf_token": csrf_of(page), "bericht": [str(a), str(b)], "soort": "nieuwsbrief"})
    assert response.status_code == 303 and "verwerkt=2" in response.headers["location"]
    assert (site.state(a), site.state(b), site.state(c)) == ("done", "done", "review")
    refused = client.post("/in-een-keer", data={"csrf_token": csrf_of(page), "bericht": [str(c)], "soort": "klacht"})
    assert refused.status_code == 400 and site.state(c) == "review"


def test_the_coordinator_sees_every_mailbox_of_her_organisation_and_the_overview(site: Site) -> None:
    site.user("ria")
    site.user("karin", role="coordinator")
    site.store(subject="Bij de wethouder")
    site.store("griffie", subject="Bij de griffie")
    coordinator = site.signed_in("karin")
    queue = coordinator.get("/").text
    assert "Bij de wethouder" in queue and "Bij de griffie" in queue
    overview = coordinator.get("/overzicht")
    assert overview.status_code == 200 and "<svg" in overview.text and "Berichten per week" in overview.text
    assert "Wachten op oordeel" in overview.text
    secretary = site.signed_in("ria")
    assert secretary.get("/overzicht").status_code == 404
    assert secretary.get("/audit").status_code == 404


def test_the_coordinator_reads_the_audit_log_filtered_by_actor_and_action(site: Site) -> None:
    site.user("ria")
    site.user("karin", role="coordinator")
    pk = site.store()
    site.signed_in("ria").get(f"/berichten/{pk}")
    page = site.signed_in("karin").get("/audit?wie=ria&actie=view-message")
    assert page.status_code == 200
    assert "bericht bekeken" in page.text and f"bericht {pk}</a>" in page.text and "aangemeld" not in page.text.split("<tbody")[1]


def test_the_body_is_served_sanitised_from_its_own_url_under_the_body_csp_and_only_to_her(site: Site) -> None:
    site.user("ria", mailboxes=("wethouder-devries",))
    mine = site.store(body="Mijn klacht <script>alert(1)</script> over de balie.")
    theirs = site.store("griffie")
    client = site.signed_in("ria")
    page = client.get(f"/berichten/{mine}").text
    assert f'src="/berichten/{mine}/inhoud"' in page and 'sandbox="allow-same-origin"' in page
    body = client.get(f"/berichten/{mine}/inhoud")
    assert body.status_code == 200 and "over de balie" in body.text and "<script>" not in body.text
    assert "script-src 'none'" in body.headers["content-security-policy"] and body.headers.get("x-frame-options", "SAMEORIGIN").upper() == "SAMEORIGIN"
    assert client.get(f"/berichten/{theirs}/inhoud").status_code == 404
    assert any(e.object == f"message {theirs}" and e.result == "not-found" for e in site.audit("view-body"))


def test_an_attachment_downloads_as_an_attachment_never_inline(site: Site) -> None:
    from support.mail import make_mail

    from ingest.cursor import Cursor
    from ingest.imap import FetchedMessage
    from klachtwacht.intake import DatabaseSink
    from klachtwacht.pipeline import advance

    site.user("ria")
    raw = make_mail(subject="Klacht met bijlage", body="Zie de bijlage.", sender="ria@example.nl", message_id="<bijlage@example.nl>",
                    attachment=("<script>x.html", b"<html><script>alert(1)</script></html>"))
    sink = DatabaseSink(site.sessions, "wethouder-devries")
    sink.store_batch("INBOX", Cursor(uidvalidity=2, last_uid=1), [FetchedMessage(1, site_received(), raw)])
    pk = sink.new_message_ids[0]
    advance(site.sessions, site.services, pk)
    client = site.signed_in("ria")
    assert f"/berichten/{pk}/bijlagen/0" in client.get(f"/berichten/{pk}").text
    download = client.get(f"/berichten/{pk}/bijlagen/0")
    assert download.status_code == 200 and download.content == b"<html><script>alert(1)</script></html>"
    assert download.headers["content-disposition"].startswith("attachment;") and "html" not in download.headers["content-type"]
    assert download.headers["x-content-type-options"] == "nosniff"


def site_received() -> object:
    from review_site import RECEIVED

    return RECEIVED


def test_a_steekproef_item_waits_in_the_coordinators_queue_and_her_verdict_is_measured(site: Site) -> None:
    from review_site import RECEIVED

    from klachtwacht.db.models import Sample
    from klachtwacht.review import steekproef

    site.user("karin", role="coordinator")
    pk = site.store(subject="Automatisch geregistreerd", confident=True)
    assert site.state(pk) == "done"
    [sample_id] = steekproef.draw(site.sessions, config=site.config, organisation="veenstad", week=steekproef.iso_week(RECEIVED), size=1)
    client = site.signed_in("karin", kick=lambda pk: None)
    queue = client.get("/").text
    assert "Steekproef: te bevestigen (1)" in queue and f"/berichten/{pk}" in queue
    page = client.get(f"/berichten/{pk}").text
    assert "Steekproef: klopt het besluit?" in page
    response = client.post(f"/berichten/{pk}/besluit", data={"csrf_token": csrf_of(page), "label": "klacht"})
    assert response.status_code == 303
    with site.sessions() as session:
        sample = session.get(Sample, sample_id)
        assert sample is not None and sample.decision_id is not None
    overview = client.get("/overzicht").text
    assert "Gemeten op 1 bevestigde steekproefberichten" in overview and "100% (" in overview


def test_the_coordinator_withdraws_an_automatically_registered_complaint_keeping_the_entry(site: Site) -> None:
    site.user("karin", role="coordinator")
    site.user("ria")
    pk = site.store(subject="Toch geen klacht", confident=True)
    secretary_page = site.signed_in("ria").get(f"/berichten/{pk}").text
    assert "Registratie intrekken" not in secretary_page
    client = site.signed_in("karin")
    page = client.get(f"/berichten/{pk}").text
    assert "Registratie intrekken" in page
    missing = client.post(f"/berichten/{pk}/intrekken", data={"csrf_token": csrf_of(page), "label": "overig", "soort_overig": "compliment", "reden": ""})
    assert missing.status_code == 400
    done = client.post(f"/berichten/{pk}/intrekken", data={"csrf_token": csrf_of(page), "label": "overig", "soort_overig": "compliment", "reden": "een compliment"})
    assert done.status_code == 303
    with site.sessions() as session:
        entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == pk))
    assert entry is not None and entry.status == "withdrawn"
    assert "(ingetrokken)" in client.get(f"/berichten/{pk}").text


def test_another_mailboxs_queue_and_the_beheerders_view_of_a_message_are_not_found(site: Site) -> None:
    site.user("ria", mailboxes=("wethouder-devries",))
    site.user("bea", role="beheerder")
    pk = site.store()
    secretary = site.signed_in("ria")
    assert secretary.get("/?postbus=griffie").status_code == 404
    assert any(e.object == "mailbox griffie" and e.actor == "ria" for e in site.audit("denied"))
    admin = site.signed_in("bea")
    assert admin.get("/").headers["location"] == "/beheer"
    assert admin.get(f"/berichten/{pk}").status_code == 404  # accounts, not mail
    assert "ria" in admin.get("/beheer").text


def test_once_the_letter_went_out_the_page_says_why_the_decision_can_no_longer_be_undone(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    client = site.signed_in("ria")  # the decision is carried out at once: registered, letter sent
    assert _decide(client, pk, label="klacht").status_code == 303
    page = client.get(f"/berichten/{pk}").text
    assert "Besluit terugdraaien" not in page and "Terugdraaien kan niet meer" in page


def test_a_decision_without_the_csrf_token_is_refused_and_the_message_still_waits(site: Site) -> None:
    site.user("ria")
    pk = site.store()
    client = site.signed_in("ria")
    for data in ({"label": "klacht"}, {"label": "klacht", "csrf_token": "van-een-andere-site"}):
        response = client.post(f"/berichten/{pk}/besluit", data=data)
        assert response.status_code == 403 and site.state(pk) == "review"
    with site.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewDecision)) == 0
