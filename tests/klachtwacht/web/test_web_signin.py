"""Signing in and out of the review app: sessions on the server, lock-out, idle timeout, CSRF on every form."""

from __future__ import annotations

from datetime import timedelta

from review_site import PASSWORD, Site, csrf_of
from sqlalchemy import update

from klachtwacht.db.models import WebSession, utcnow
from klachtwacht.web.sessions import COOKIE


def test_healthz_answers_without_signing_in(site: Site) -> None:
    assert site.client().get("/healthz").status_code == 200


def test_the_login_form_has_username_password_and_one_hidden_csrf_input(site: Site) -> None:
    page = site.client().get("/login")
    assert page.status_code == 200 and 'lang="nl"' in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert page.text.count('type="hidden"') == 1 and csrf_of(page.text)


def test_the_queue_needs_a_signed_in_user(site: Site) -> None:
    response = site.client().get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_signing_in_sets_only_a_random_session_id_in_an_httponly_lax_cookie(site: Site) -> None:
    site.user("ria")
    client = site.client()
    response = site.sign_in(client, "ria")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "ria" not in cookie.lower()
    assert client.get("/").status_code == 200
    assert [(e.actor, e.result) for e in site.audit("sign-in")] == [("ria", "ok")]


def test_a_wrong_password_is_told_in_dutch_and_logged(site: Site) -> None:
    site.user("ria")
    response = site.sign_in(site.client(), "ria", "fout-wachtwoord")
    assert response.status_code == 400
    assert "De gebruikersnaam of het wachtwoord klopt niet" in response.text
    assert [(e.actor, e.result) for e in site.audit("sign-in-failed")] == [("ria", "denied")]


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(site: Site) -> None:
    site.user("ria")
    client = site.client()
    for _ in range(site.config.web.lockout_after):
        last = site.sign_in(client, "ria", "fout-wachtwoord")
    assert last.status_code == 429 and "tijdelijk geblokkeerd" in last.text
    right = site.sign_in(client, "ria", PASSWORD)
    assert right.status_code == 429 and client.get("/").status_code == 303
    assert site.audit("sign-in-failed")[-1].result == "locked"


def test_a_session_unused_longer_than_the_idle_time_has_expired(site: Site) -> None:
    site.user("ria")
    client = site.signed_in("ria")
    with site.sessions.begin() as session:
        session.execute(update(WebSession).values(last_seen=utcnow() - timedelta(minutes=site.config.web.session_idle_minutes + 1)))
    response = client.get("/")
    assert response.status_code == 303 and "reden=verlopen" in response.headers["location"]
    page = client.get(response.headers["location"])
    assert "Uw sessie is verlopen" in page.text
    assert client.get("/").status_code == 303  # revoked for good, not revived by the next request


def test_signing_out_revokes_the_session_on_the_server(site: Site) -> None:
    site.user("ria")
    client = site.signed_in("ria")
    cookie = client.cookies[COOKIE]
    page = client.get("/")
    assert client.post("/uitloggen", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    stolen = site.client()
    stolen.cookies.set(COOKIE, cookie)
    assert stolen.get("/").status_code == 303


def test_a_post_without_or_with_a_wrong_csrf_token_changes_nothing(site: Site) -> None:
    site.user("ria")
    client = site.signed_in("ria")
    for data in ({}, {"csrf_token": "geraden"}):
        response = client.post("/uitloggen", data=data)
        assert response.status_code == 403 and "beveiligingscode klopt niet" in response.text
    assert client.get("/").status_code == 200  # still signed in: the sign-out was refused
    assert [e.result for e in site.audit("csrf-failed")] == ["denied", "denied"]


def test_a_login_without_its_csrf_token_is_refused(site: Site) -> None:
    site.user("ria")
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"username": "ria", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403 and COOKIE not in client.cookies


def test_an_oversized_request_is_refused_in_dutch_before_it_is_read(site: Site) -> None:
    site.user("ria")
    client = site.signed_in("ria")
    token = csrf_of(client.get("/").text)
    response = client.post("/uitloggen", data={"csrf_token": token, "vulling": "x" * (site.config.web.max_request_bytes + 1)})
    assert response.status_code == 413 and "Te veel gegevens verstuurd" in response.text
    assert client.get("/").status_code == 200  # the sign-out in it did not happen


def test_every_page_carries_the_app_csp_and_no_referrer(site: Site) -> None:
    response = site.client().get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "no-referrer" and response.headers["x-frame-options"] == "DENY"


def test_over_https_the_session_cookie_is_secure(site: Site) -> None:
    from starlette.testclient import TestClient

    site.user("ria")
    client = TestClient(site.app(), base_url="https://testserver", follow_redirects=False)
    response = site.sign_in(client, "ria")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    assert response.status_code == 303 and "Secure" in cookie
