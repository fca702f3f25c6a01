"""Sign-in with the organisation's account in the review app: a linked account gets a session, anyone else is refused.

The app is the real review app with ``[web.oidc]`` pointing at oidc-provider on loopback;
one httpx client walks app -> provider login -> callback as a browser would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import test_oidc
import uvicorn
from review_site import Site
from sqlalchemy import update
from support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Account, OidcProvider
from support.services import free_port
from support.smtp import SmtpSink
from test_oidc import walk_to_callback

from klachtwacht.config import load_config
from klachtwacht.db.models import User
from klachtwacht.web.routes.oidc_signin import NO_ACCOUNT

TID = "3f2a8c1e-6b4d-4e7a-9c2f-1a5b7d9e0c31"
ANNA = Account("anna", "anna-wachtwoord", tid=TID, oid="oid-anna", name="Anna de Vries", email="a.devries@gemeente.example")
KEES = Account("kees", "kees-wachtwoord", tid=TID, oid="oid-kees", name="Kees Bakker", email="k.bakker@gemeente.example")


@pytest.fixture
def oidc_site(tmp_path: Path, db_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    redirect = f"{base}/inloggen/oidc/terug"
    monkeypatch.setattr(test_oidc, "REDIRECT", redirect)
    with OidcProvider(redirect, {TID: [ANNA, KEES]}) as provider:
        extra = (f'[web.oidc]\ntenant_id = "{TID}"\nissuer = "{provider.issuer(TID)}"\nclient_id = "{CLIENT_ID}"\n'
                 f'client_secret_env = "KW_PW"\nredirect_url = "{redirect}"\n')  # fmt: skip
        site = Site(tmp_path, db_url, smtp, web_extra=extra)  # loaded once with a placeholder secret, then with the real one
        site.config = load_config(tmp_path / "klachtwacht.toml", env={"KW_PW": CLIENT_SECRET})
        site.user("anna.devries")
        with site.sessions.begin() as session:
            session.execute(update(User).where(User.name == "anna.devries").values(oidc_tid=TID, oidc_oid=ANNA.oid))
        server = uvicorn.Server(uvicorn.Config(site.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield site, base
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            site.close()


def _sign_in(http: httpx.Client, base: str, account: Account) -> httpx.Response:
    start = http.get(f"{base}/inloggen/oidc")
    assert start.status_code in (302, 303), start.text
    return http.get(walk_to_callback(http, start.headers["location"], account))


def test_the_login_page_offers_sign_in_with_the_organisation(oidc_site: tuple[Site, str]) -> None:
    _, base = oidc_site
    page = httpx.get(f"{base}/login", timeout=10).text
    assert 'href="/inloggen/oidc"' in page and "Inloggen met uw organisatieaccount" in page


def test_a_linked_account_signs_in_with_her_organisation_and_sees_her_queue(oidc_site: tuple[Site, str]) -> None:
    site, base = oidc_site
    with httpx.Client(timeout=10) as http:
        back = _sign_in(http, base, ANNA)
        assert back.status_code == 303 and back.headers["location"] == "/"
        queue = http.get(f"{base}/")
    assert queue.status_code == 200 and "/login" not in str(queue.url)
    assert any(e.actor == "anna.devries" and e.action == "sign-in" and e.result == "ok" for e in site.audit())


def test_someone_of_the_organisation_without_a_linked_account_is_refused_in_dutch(oidc_site: tuple[Site, str]) -> None:
    site, base = oidc_site
    with httpx.Client(timeout=10) as http:
        back = _sign_in(http, base, KEES)
        assert back.status_code == 403 and NO_ACCOUNT.split(",")[0] in back.text
        assert http.get(f"{base}/").status_code in (302, 303)  # still signed out
    failed: list[Any] = [e for e in site.audit() if e.action == "sign-in-failed"]
    assert failed and failed[-1].result == "denied" and KEES.oid in (failed[-1].object or "")
