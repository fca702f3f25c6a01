"""Sign-in with OpenID Connect against a real provider on loopback (oidc-provider on Node).

The app side is a small Starlette app with :func:`oidc_routes`, served by uvicorn on a free port,
so one httpx client walks the whole flow as a browser would: app -> provider login form ->
consent -> back to the app's callback. The token checks that need a token no honest provider
would issue (expired, another nonce) use tokens signed here with a local key set.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
import requests
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from support.browser import browser_page
from support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Account, OidcProvider
from support.services import free_port

from klachtwacht.config import Secret
from klachtwacht.web.oidc import (
    FLOW_COOKIE,
    MSG_CANCELLED,
    MSG_EXPIRED,
    MSG_TENANT,
    Flow,
    OidcClient,
    OidcConfig,
    OidcIdentity,
    SignInRefused,
    identity_from_id_token,
    oidc_config_from,
    oidc_routes,
)

TENANT = "3f2a8c1e-6b4d-4e7a-9c2f-1a5b7d9e0c31"  # the municipality
OTHER = "8d4e2b6a-1c3f-4a5e-b7d9-0e2f4a6c8b13"  # another organisation on the same provider
FOREIGN = "5a7c9e1b-3d5f-4b7a-8c9e-2f4a6b8d0e15"  # a tenant claim nobody allowed

ANNA = Account("anna", "anna-wachtwoord", tid=TENANT, oid="0d6a7c4e-1111-4a2b-9c3d-5e6f7a8b9c0d", name="Anna de Vries", email="a.devries@gemeente.example")
GAST = Account("gast", "gast-wachtwoord", tid=FOREIGN, oid="7e8f9a0b-2222-4c3d-8e4f-6a7b8c9d0e1f", name="Gast van Buiten")
BRAM = Account("bram", "bram-wachtwoord", tid=OTHER, oid="1a2b3c4d-3333-4e5f-a6b7-c8d9e0f1a2b3", name="Bram Elders")

APP_PORT = free_port()
APP = f"http://127.0.0.1:{APP_PORT}"
REDIRECT = f"{APP}/inloggen/oidc/terug"


def config_for(idp: OidcProvider, tid: str) -> OidcConfig:
    table = {"tenant_id": tid, "issuer": idp.issuer(tid), "client_id": CLIENT_ID, "client_secret_env": "KW_OIDC_SECRET", "redirect_url": REDIRECT}
    config = oidc_config_from(table, env={"KW_OIDC_SECRET": CLIENT_SECRET})
    assert config is not None
    return config


@dataclass
class Seen:
    identities: list[OidcIdentity] = field(default_factory=list)
    refusals: list[SignInRefused] = field(default_factory=list)


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(REDIRECT, {TENANT: [ANNA, GAST], OTHER: [BRAM]}) as provider:
        yield provider


@pytest.fixture(scope="module")
def served(idp: OidcProvider) -> Iterator[tuple[OidcClient, Seen]]:
    """The app of tenant TENANT on APP_PORT; what its callbacks saw is in ``Seen``."""
    client = OidcClient(config_for(idp, TENANT))
    seen = Seen()

    async def on_identity(request: Request, identity: OidcIdentity) -> Response:
        seen.identities.append(identity)
        return JSONResponse({"tid": identity.tid, "oid": identity.oid, "name": identity.name, "email": identity.email})

    def on_refused(request: Request, exc: SignInRefused) -> Response:
        seen.refusals.append(exc)
        return PlainTextResponse(exc.message, status_code=403)

    app = Starlette(routes=oidc_routes(client, on_identity=on_identity, on_refused=on_refused))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=APP_PORT, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield client, seen
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def app(served: tuple[OidcClient, Seen]) -> Iterator[Seen]:
    _, seen = served
    seen.identities.clear()
    seen.refusals.clear()
    yield seen


def walk_to_callback(http: httpx.Client, url: str, account: Account) -> str:
    """Follow the provider's redirects, sign in on its form; return the URL it sends the browser back to."""
    for _ in range(12):
        if url.startswith(REDIRECT):
            return url
        response = http.get(url)
        if response.status_code == 200 and "<form" in response.text:
            action = re.search(r'action="([^"]+)"', response.text)
            assert action, response.text
            response = http.post(urljoin(url, action.group(1)), data={"login": account.login, "password": account.password})
        assert response.status_code in (302, 303), f"{response.status_code} at {url}: {response.text[:500]}"
        url = urljoin(url, response.headers["location"])
    raise AssertionError(f"the provider never sent the browser back (last {url})")


def start_sign_in(http: httpx.Client) -> str:
    """GET /inloggen/oidc on the app; return where it sends the browser (the provider)."""
    response = http.get(f"{APP}/inloggen/oidc")
    assert response.status_code == 303
    return response.headers["location"]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- the whole flow against the real provider ---------------------------------------------------


def test_signing_in_at_the_tenants_provider_ends_in_on_identity_with_its_tid_and_oid(app: Seen, idp: OidcProvider) -> None:
    with httpx.Client(timeout=10) as http:
        callback = walk_to_callback(http, start_sign_in(http), ANNA)
        assert http.cookies.get(FLOW_COOKIE)
        assert parse_qs(urlsplit(callback).query)["iss"] == [idp.issuer(TENANT)]  # RFC 9207, checked too
        response = http.get(callback)
        assert response.status_code == 200, response.text
        assert response.json() == {"tid": TENANT, "oid": ANNA.oid, "name": "Anna de Vries", "email": "a.devries@gemeente.example"}
        assert app.identities == [OidcIdentity(tid=TENANT, oid=ANNA.oid, name="Anna de Vries", email="a.devries@gemeente.example")]
        assert app.refusals == []
        assert http.cookies.get(FLOW_COOKIE) is None, "the flow cookie is used once"


def test_a_person_signs_in_with_her_organisation_in_a_real_browser(app: Seen, idp: OidcProvider) -> None:
    """Chromium across two sites (the provider on localhost, the app on 127.0.0.1): the SameSite=Lax flow cookie comes back."""
    with browser_page() as page:
        page.goto(f"{APP}/inloggen/oidc")
        assert page.url.startswith(idp.issuer(TENANT) + "/interaction/")
        page.get_by_label("Login").fill(ANNA.login)
        page.get_by_label("Password").fill(ANNA.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{REDIRECT}?*")
        assert app.refusals == [], app.refusals[0].reason
        assert json.loads(page.locator("body").inner_text())["oid"] == ANNA.oid
        assert not [c for c in page.context.cookies(APP) if c["name"] == FLOW_COOKIE]
    assert [(i.tid, i.oid) for i in app.identities] == [(TENANT, ANNA.oid)]


def test_the_authorization_request_carries_state_nonce_and_an_s256_code_challenge(served: tuple[OidcClient, Seen], idp: OidcProvider) -> None:
    client, _ = served
    begun = client.begin()
    query = {k: v[0] for k, v in parse_qs(urlsplit(begun.url).query).items()}
    assert begun.url.startswith(idp.issuer(TENANT) + "/auth?")
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT
    assert query["scope"].split() == ["openid", "profile", "email"]
    assert query["state"] == begun.flow.state and query["nonce"] == begun.flow.nonce
    assert query["code_challenge_method"] == "S256"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(begun.flow.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == challenge
    assert begun.flow.code_verifier not in begun.url


def test_a_token_from_another_tenants_issuer_is_refused_though_its_signature_is_valid(served: tuple[OidcClient, Seen], idp: OidcProvider) -> None:
    client, _ = served
    other = OidcClient(config_for(idp, OTHER))
    begun = other.begin()
    with httpx.Client(timeout=10) as http:
        callback = walk_to_callback(http, begun.url, BRAM)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    id_token = other.exchange(code, begun.flow)
    # the token is sound for its own tenant, signed with the keys every tenant shares...
    assert other.validate_id_token(id_token, nonce=begun.flow.nonce).tid == OTHER
    # ...and still refused by the municipality's client
    with pytest.raises(SignInRefused) as refused:
        client.validate_id_token(id_token, nonce=begun.flow.nonce)
    assert "issuer" in refused.value.reason and idp.issuer(OTHER) in refused.value.reason
    assert refused.value.message == MSG_TENANT


def test_a_user_of_a_tenant_that_is_not_allowed_is_refused_with_a_dutch_message(app: Seen) -> None:
    with httpx.Client(timeout=10) as http:
        response = http.get(walk_to_callback(http, start_sign_in(http), GAST))
    assert response.status_code == 403
    assert response.text == MSG_TENANT
    assert app.identities == []
    [refusal] = app.refusals
    assert FOREIGN in refusal.reason and "not allowed" in refusal.reason


def test_a_callback_replayed_after_the_sign_in_is_refused(app: Seen) -> None:
    with httpx.Client(timeout=10) as http:
        callback = walk_to_callback(http, start_sign_in(http), ANNA)
        sealed = http.cookies.get(FLOW_COOKIE)
        assert http.get(callback).status_code == 200
        again = http.get(callback)  # the cookie is gone
    assert again.status_code == 403 and again.text == MSG_EXPIRED
    with httpx.Client(timeout=10, cookies={FLOW_COOKIE: sealed}) as thief:  # with the old cookie kept
        stolen = thief.get(callback)
    assert stolen.status_code == 403
    assert len(app.identities) == 1
    assert "no flow cookie" in app.refusals[0].reason
    assert "already used" in app.refusals[1].reason


def test_a_callback_with_another_state_is_refused(app: Seen) -> None:
    with httpx.Client(timeout=10) as http:
        callback = walk_to_callback(http, start_sign_in(http), ANNA)
        response = http.get(with_query(callback, state="een-andere-state"))
    assert response.status_code == 403 and response.text == MSG_EXPIRED
    assert app.identities == []
    assert "state" in app.refusals[0].reason


def test_a_callback_naming_another_issuer_is_refused(app: Seen, idp: OidcProvider) -> None:
    """RFC 9207: an authorization response of another provider (a mix-up attack) is not exchanged."""
    with httpx.Client(timeout=10) as http:
        callback = walk_to_callback(http, start_sign_in(http), ANNA)
        response = http.get(with_query(callback, iss=idp.issuer(OTHER)))
    assert response.status_code == 403 and response.text == MSG_TENANT
    assert app.identities == []
    assert "callback from issuer" in app.refusals[0].reason


def test_the_flow_cookie_is_http_only_lax_short_lived_and_scoped_to_the_sign_in_paths(app: Seen) -> None:
    with httpx.Client(timeout=10) as http:
        response = http.get(f"{APP}/inloggen/oidc")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{FLOW_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert attributes["path"] == "Path=/inloggen/oidc"
    assert attributes["max-age"] == "Max-Age=600"
    assert "httponly" in attributes and attributes["samesite"].lower() == "samesite=lax"
    assert "secure" not in attributes  # plain http on this machine
    assert response.headers["cache-control"] == "no-store"


def test_the_flow_cookie_is_secure_when_the_app_is_on_https(idp: OidcProvider) -> None:
    config = config_for(idp, TENANT)
    on_https = OidcConfig(**{**config.__dict__, "redirect_url": "https://klachtwacht.gemeente.example/inloggen/oidc/terug"})
    routes = oidc_routes(OidcClient(on_https), on_identity=lambda request, identity: PlainTextResponse("ok"),
                         on_refused=lambda request, exc: PlainTextResponse(exc.message, status_code=403))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=Starlette(routes=routes))
        async with httpx.AsyncClient(transport=transport, base_url="https://klachtwacht.gemeente.example") as client:
            return await client.get("/inloggen/oidc")

    response = asyncio.run(get())
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()
    assert parse_qs(urlsplit(response.headers["location"]).query)["redirect_uri"] == [on_https.redirect_url]


def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(app: Seen) -> None:
    """Login CSRF: an attacker's own callback link, opened by the victim, signs nobody in."""
    with httpx.Client(timeout=10) as attacker:
        callback = walk_to_callback(attacker, start_sign_in(attacker), ANNA)
    with httpx.Client(timeout=10) as victim:
        response = victim.get(callback)
    assert response.status_code == 403
    assert app.identities == []
    assert "no flow cookie" in app.refusals[0].reason


def test_a_forged_flow_cookie_is_refused(app: Seen) -> None:
    with httpx.Client(timeout=10) as http:
        callback = walk_to_callback(http, start_sign_in(http), ANNA)
        sealed = http.cookies.get(FLOW_COOKIE)
        assert sealed
        forged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        http.cookies.clear()
        http.cookies.set(FLOW_COOKIE, forged)
        response = http.get(callback)
    assert response.status_code == 403
    assert app.identities == []
    assert "bad signature" in app.refusals[0].reason


def test_a_sign_in_the_provider_refused_is_refused_with_its_error(app: Seen) -> None:
    with httpx.Client(timeout=10) as http:
        state = parse_qs(urlsplit(start_sign_in(http)).query)["state"][0]
        response = http.get(f"{REDIRECT}?" + urlencode({"error": "access_denied", "error_description": "End-User aborted interaction", "state": state}))
    assert response.status_code == 403 and response.text == MSG_CANCELLED
    assert "access_denied" in app.refusals[0].reason


def test_a_code_from_another_tenant_is_refused_at_the_token_endpoint(app: Seen, idp: OidcProvider) -> None:
    """A code of the OTHER tenant's provider pasted into this app's callback never becomes a sign-in."""
    other = OidcClient(config_for(idp, OTHER))
    begun = other.begin()
    with httpx.Client(timeout=10) as http:
        foreign_code = parse_qs(urlsplit(walk_to_callback(http, begun.url, BRAM)).query)["code"][0]
        callback = walk_to_callback(http, start_sign_in(http), ANNA)
        response = http.get(with_query(callback, code=foreign_code))
    assert response.status_code == 403
    assert app.identities == []
    assert "token endpoint refused" in app.refusals[0].reason


def test_the_discovery_document_is_fetched_once(idp: OidcProvider) -> None:
    fetched: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: fetched.append(response.url))
    client = OidcClient(config_for(idp, TENANT), http=session)
    client.begin()
    client.begin()
    assert client.provider().token_endpoint == idp.issuer(TENANT) + "/token"
    assert fetched == [idp.issuer(TENANT) + "/.well-known/openid-configuration"]


def test_a_discovery_document_naming_another_issuer_is_refused(idp: OidcProvider) -> None:
    """The same provider reached under another name: its document's issuer is not the configured one, exactly."""
    config = config_for(idp, TENANT)
    renamed = OidcConfig(**{**config.__dict__, "issuer": config.issuer.replace("localhost", "127.0.0.1")})
    with pytest.raises(SignInRefused) as refused:
        OidcClient(renamed).begin()
    assert "discovery document names issuer" in refused.value.reason


def test_the_jwks_is_fetched_again_for_an_unknown_key_id_at_most_once_a_minute_and_after_a_day(idp: OidcProvider) -> None:
    jwks_fetches: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: jwks_fetches.append(response.url) if response.url.endswith("/jwks") else None)
    now = [time.time()]
    client = OidcClient(config_for(idp, TENANT), http=session, clock=lambda: now[0])
    stranger = RSAKey.generate_key(2048, parameters={"kid": "nieuwe-sleutel"})
    token = sign(stranger, claims(iss=idp.issuer(TENANT), iat=int(now[0]), nbf=int(now[0]), exp=int(now[0]) + 600), kid="nieuwe-sleutel")
    for _ in range(2):
        with pytest.raises(SignInRefused, match="does not publish"):
            client.validate_id_token(token, nonce=NONCE)
    assert len(jwks_fetches) == 1, "a second unknown key id within a minute fetches nothing"
    now[0] += 61
    with pytest.raises(SignInRefused, match="does not publish"):
        client.validate_id_token(token, nonce=NONCE)
    assert len(jwks_fetches) == 2, "after a minute the keys are fetched again (key rollover)"
    now[0] += 24 * 3600
    client.keys()
    assert len(jwks_fetches) == 3, "keys older than a day are fetched again (a withdrawn key stops counting)"


def test_an_unreachable_provider_is_a_refusal_with_a_dutch_message() -> None:
    port = free_port()
    table = {"tenant_id": TENANT, "issuer": f"http://127.0.0.1:{port}/{TENANT}/v2.0", "client_id": CLIENT_ID,
             "client_secret_env": "S", "redirect_url": REDIRECT}
    config = oidc_config_from(table, env={"S": "x"})
    assert config is not None
    with pytest.raises(SignInRefused) as refused:
        OidcClient(config, timeout=2).begin()
    assert "cannot fetch the discovery document" in refused.value.reason
    assert refused.value.message.startswith("De inlogdienst")


# -- the ID token checks, with tokens signed here ------------------------------------------------

ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
NONCE = "de-nonce-van-deze-aanmelding"
NOW = 1_790_000_000.0
LOCAL = OidcConfig(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=Secret("x"), redirect_url=REDIRECT,
                   issuer=ISSUER, allowed_tenants=frozenset({TENANT}))


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "sleutel-1", "use": "sig", "alg": "RS256"})


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "pairwise-sub", "tid": TENANT, "oid": ANNA.oid, "name": "Anna de Vries",
            "email": "a.devries@gemeente.example", "nonce": NONCE, "iat": int(NOW) - 10, "nbf": int(NOW) - 10, "exp": int(NOW) + 3600}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Any, body: dict[str, Any], alg: str = "RS256", kid: str | None = "sleutel-1") -> str:
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    return jwt.encode(header, body, key, algorithms=[alg])


def check(key: RSAKey, token: str, *, nonce: str = NONCE, now: float = NOW) -> OidcIdentity:
    keys = KeySet.import_key_set({"keys": [key.as_dict(private=False)]})
    return identity_from_id_token(token, keys, config=LOCAL, nonce=nonce, now=now)


def refusal(key: RSAKey, token: str, **kwargs: Any) -> SignInRefused:
    with pytest.raises(SignInRefused) as refused:
        check(key, token, **kwargs)
    return refused.value


def test_a_sound_token_names_the_person_by_tid_and_oid(signing_key: RSAKey) -> None:
    identity = check(signing_key, sign(signing_key, claims(tid=TENANT.upper())))
    assert identity == OidcIdentity(tid=TENANT, oid=ANNA.oid, name="Anna de Vries", email="a.devries@gemeente.example")


def test_an_expired_token_is_refused(signing_key: RSAKey) -> None:
    exc = refusal(signing_key, sign(signing_key, claims(exp=int(NOW) - 61)))
    assert "expired" in exc.reason and exc.message == MSG_EXPIRED


def test_a_token_expired_within_the_leeway_is_accepted(signing_key: RSAKey) -> None:
    assert check(signing_key, sign(signing_key, claims(exp=int(NOW) - 30))).oid == ANNA.oid


def test_a_token_not_valid_yet_is_refused(signing_key: RSAKey) -> None:
    assert "nbf" in refusal(signing_key, sign(signing_key, claims(nbf=int(NOW) + 300))).reason
    assert "iat" in refusal(signing_key, sign(signing_key, claims(iat=int(NOW) + 300, nbf=None))).reason


def test_a_token_with_another_nonce_is_refused(signing_key: RSAKey) -> None:
    assert "nonce" in refusal(signing_key, sign(signing_key, claims()), nonce="een-andere-nonce").reason
    assert "nonce" in refusal(signing_key, sign(signing_key, claims(nonce=None))).reason


def test_a_token_for_another_client_is_refused(signing_key: RSAKey) -> None:
    assert "audience" in refusal(signing_key, sign(signing_key, claims(aud="een-andere-app"))).reason
    assert "authorized party" in refusal(signing_key, sign(signing_key, claims(aud=[CLIENT_ID, "een-andere-app"]))).reason


def test_a_token_of_the_common_endpoint_template_is_refused(signing_key: RSAKey) -> None:
    for iss in ("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/v2.0",
                f"https://login.microsoftonline.com/{OTHER}/v2.0", f"https://sts.windows.net/{TENANT}/"):
        assert "issuer" in refusal(signing_key, sign(signing_key, claims(iss=iss))).reason


def test_a_token_of_a_tenant_not_allowed_is_refused_even_from_the_right_issuer(signing_key: RSAKey) -> None:
    exc = refusal(signing_key, sign(signing_key, claims(tid=FOREIGN)))
    assert FOREIGN in exc.reason and exc.message == MSG_TENANT
    assert "tenant None" in refusal(signing_key, sign(signing_key, claims(tid=None))).reason


def test_a_token_without_oid_is_refused(signing_key: RSAKey) -> None:
    assert "oid" in refusal(signing_key, sign(signing_key, claims(oid=None))).reason


def test_a_token_signed_with_another_key_under_the_same_key_id_is_refused(signing_key: RSAKey) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "sleutel-1"})
    assert "signature" in refusal(signing_key, sign(impostor, claims())).reason


def test_a_token_with_an_unknown_key_id_is_refused(signing_key: RSAKey) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "sleutel-2"})
    assert "does not publish" in refusal(signing_key, sign(other, claims(), kid="sleutel-2")).reason


def test_an_hmac_or_unsigned_token_is_refused(signing_key: RSAKey) -> None:
    hmac_key = OctKey.import_key(CLIENT_SECRET.encode())
    refusal(signing_key, sign(hmac_key, claims(), alg="HS256"))
    head = base64.urlsafe_b64encode(b'{"alg":"none","kid":"sleutel-1"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(jwt.convert_claims(claims())).rstrip(b"=").decode()
    refusal(signing_key, f"{head}.{body}.")
    assert "not a JWT" in refusal(signing_key, "geen-token").reason or "rejected" in refusal(signing_key, "geen-token").reason


# -- the flow cookie -----------------------------------------------------------------------------


def test_a_sign_in_that_took_longer_than_ten_minutes_is_refused() -> None:
    sealed = OidcClient(LOCAL).seal(Flow(state="s", nonce="n", code_verifier="v"))
    assert OidcClient(LOCAL, clock=lambda: time.time() + 590).unseal(sealed) == Flow(state="s", nonce="n", code_verifier="v")
    with pytest.raises(SignInRefused) as refused:
        OidcClient(LOCAL, clock=lambda: time.time() + 610).unseal(sealed)
    assert "took longer" in refused.value.reason


def test_a_flow_cookie_of_another_app_registration_is_refused() -> None:
    other = OidcConfig(**{**LOCAL.__dict__, "client_secret": Secret("een ander geheim")})
    sealed = OidcClient(other).seal(Flow(state="s", nonce="n", code_verifier="v"))
    with pytest.raises(SignInRefused, match="bad signature"):
        OidcClient(LOCAL).unseal(sealed)


def test_the_client_secret_never_shows_in_a_repr_or_a_refusal(idp: OidcProvider) -> None:
    config = config_for(idp, TENANT)
    assert CLIENT_SECRET not in repr(config)
    client = OidcClient(config)
    with pytest.raises(SignInRefused) as refused:
        client.finish({"state": "s", "code": "een-verzonnen-code"}, Flow(state="s", nonce="n", code_verifier="v" * 43))
    assert "token endpoint refused" in refused.value.reason
    assert CLIENT_SECRET not in refused.value.reason and CLIENT_SECRET not in str(refused.value)
