"""Sign-in with the organisation's identity provider: OpenID Connect against Entra ID (issue 13).

The authorization code flow with PKCE (S256), ``state`` and ``nonce``. The app mounts
:func:`oidc_routes`; before sign-in there is no server-side session yet, so ``state``, ``nonce``
and the PKCE verifier travel in a short-lived signed cookie (itsdangerous), used once.

The ID token is checked here, not trusted: its signature against the provider's JWKS, ``iss``
equal to the configured tenant-specific issuer (Entra signs the tokens of *every* tenant with the
same keys, so a valid signature proves nothing about the tenant), ``aud`` (and ``azp``) the
client id, ``exp``/``nbf``/``iat`` with a small leeway, the ``nonce`` of this sign-in, and the
``tid`` claim among the allowed tenants. A person is :class:`OidcIdentity` keyed on ``tid`` and
``oid``, never on the e-mail address (which a user or an administrator can change).

In Entra ID: register a web app (single tenant), add the redirect URL of ``[web.oidc]`` as a "Web"
redirect URI, create a client secret, and grant ``openid profile email`` (admin consent). No
implicit grant and no ID tokens from the authorization endpoint are needed: the code flow gets the
ID token from the token endpoint. The app decides who may use it: a ``(tid, oid)`` that no account
is linked to should be refused by ``on_identity``, not created.

Authlib builds the authorization URL and exchanges the code (its requests client);
the JOSE part is joserfc, the successor of ``authlib.jose`` by the same authors (Authlib 1.6+
deprecates ``authlib.jose`` and depends on joserfc itself).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from klachtwacht.errors import SignInRefused
from klachtwacht.web.oidc_config import CALLBACK_PATH, START_PATH, OidcConfig, oidc_config_from

__all__ = [
    "OidcConfig",
    "oidc_config_from",
    "OidcClient",
    "OidcIdentity",
    "ProviderMetadata",
    "Flow",
    "SignInStart",
    "SignInRefused",
    "oidc_routes",
    "identity_from_id_token",
    "FLOW_COOKIE",
    "MSG_EXPIRED",
    "MSG_TENANT",
    "MSG_CANCELLED",
    "MSG_UNREACHABLE",
    "START_PATH",
    "CALLBACK_PATH",
]

#: The cookie that carries one sign-in's state, nonce and PKCE verifier from the start to the callback.
FLOW_COOKIE = "kw_oidc_flow"
#: Seconds a sign-in may take at the provider.
FLOW_MAX_AGE = 600
#: Seconds of clock difference accepted on ``exp``, ``nbf`` and ``iat``.
LEEWAY = 60
#: Seconds the discovery document is kept before it is fetched again.
DISCOVERY_TTL = 3600.0
#: Seconds before the JWKS may be fetched again for a key id it does not know (key rollover).
JWKS_REFRESH_MIN = 60.0
#: Seconds the JWKS is kept at most, so a key the provider withdrew stops counting within a day.
JWKS_TTL = 24 * 3600.0
#: Asymmetric signatures only: never ``none``, never an HMAC keyed with something public.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")

MSG_EXPIRED = "Het inloggen duurde te lang of is al gebruikt. Probeer het opnieuw."
MSG_TENANT = "Uw organisatie heeft geen toegang tot klachtwacht. Neem contact op met de beheerder."
MSG_CANCELLED = "Het inloggen bij uw organisatie is afgebroken of geweigerd. Probeer het opnieuw."
MSG_UNREACHABLE = "De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het later opnieuw."


class _UnknownKey(SignInRefused):
    """The ID token's key id is not in the JWKS we have: fetch it again once before refusing."""


@dataclass(frozen=True)
class OidcIdentity:
    """Who signed in: ``(tid, oid)`` is the key of the person; name and e-mail are only shown."""

    tid: str
    oid: str
    name: str
    email: str | None


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document the sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Flow:
    """One sign-in in progress: what the callback must see again."""

    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignInStart:
    url: str
    flow: Flow


def identity_from_id_token(
    id_token: str,
    keys: KeySet,
    *,
    config: OidcConfig,
    nonce: str,
    now: float,
    leeway: int = LEEWAY,
) -> OidcIdentity:
    """Check an ID token completely and return who it names; :class:`SignInRefused` when any check fails.

    Pure: the keys and the time are given. When the token's key id is not in ``keys`` the
    refusal is an ``_UnknownKey``, so the caller can fetch the JWKS again once (key rollover).
    """
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except InvalidKeyIdError as exc:
        raise _UnknownKey(f"ID token signed with a key the provider does not publish ({exc.description})") from exc
    except JoseError as exc:
        raise SignInRefused(f"ID token rejected: {exc.error}: {exc.description or 'bad token'}") from exc
    except ValueError as exc:
        raise SignInRefused(f"ID token rejected: not a JWT ({exc})") from exc
    claims = token.claims

    iss = claims.get("iss")
    if iss != config.issuer:
        raise SignInRefused(f"ID token from issuer {iss!r}, expected {config.issuer!r}", message=MSG_TENANT)
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if config.client_id not in audiences:
        raise SignInRefused(f"ID token for audience {aud!r}, not for client {config.client_id!r}")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != config.client_id:
        raise SignInRefused(f"ID token authorized party {azp!r} is not client {config.client_id!r}")

    for name in ("exp", "iat"):
        if name not in claims:
            raise SignInRefused(f"ID token without {name}")
    times = {name: claims[name] for name in ("exp", "iat", "nbf") if name in claims}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in times.values()):
        raise SignInRefused("ID token times (exp, iat, nbf) are not numbers")
    if times["exp"] <= now - leeway:
        raise SignInRefused(f"ID token expired {int(now - times['exp'])} s ago", message=MSG_EXPIRED)
    if "nbf" in times and times["nbf"] > now + leeway:
        raise SignInRefused("ID token not valid yet (nbf in the future)")
    if times["iat"] > now + leeway:
        raise SignInRefused("ID token issued in the future (iat)")

    got_nonce = claims.get("nonce")
    if not isinstance(got_nonce, str) or not hmac.compare_digest(got_nonce.encode(), nonce.encode()):
        raise SignInRefused("ID token nonce does not match this sign-in (replayed or injected token)", message=MSG_EXPIRED)

    tid = claims.get("tid")
    if not isinstance(tid, str) or tid.lower() not in config.allowed_tenants:
        raise SignInRefused(f"tenant {tid!r} is not allowed (allowed: {', '.join(sorted(config.allowed_tenants))})", message=MSG_TENANT)
    oid = claims.get("oid")
    if not isinstance(oid, str) or not oid:
        raise SignInRefused("ID token without oid (is the profile scope granted?)")
    name = claims.get("name") or claims.get("preferred_username") or ""
    email = claims.get("email")
    return OidcIdentity(
        tid=tid.lower(),
        oid=oid,
        name=name if isinstance(name, str) else "",
        email=email if isinstance(email, str) and email else None,
    )


class OidcClient:
    """The relying party of one :class:`OidcConfig`: discovery, the authorization URL, code exchange, the ID token.

    Its methods block (HTTP); :func:`oidc_routes` runs them in a worker thread. ``http`` is the
    requests session used for discovery and JWKS; ``clock`` returns the time in seconds;
    ``flow_key`` signs the flow cookie (default: derived from the client secret, so every worker
    process of the app agrees on it).
    """

    def __init__(
        self,
        config: OidcConfig,
        *,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        flow_key: bytes | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.config = config
        self._http = http or requests.Session()
        self._clock = clock
        self._flow_key = flow_key
        self._timeout = timeout
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None
        #: states of finished sign-ins, until their cookie would have expired anyway
        self._spent: dict[str, float] = {}

    # -- discovery and keys -------------------------------------------------------------------

    def provider(self) -> ProviderMetadata:
        """The discovery document, fetched once per :data:`DISCOVERY_TTL`; its issuer must be ours exactly."""
        with self._lock:
            if self._metadata and self._clock() - self._metadata[0] < DISCOVERY_TTL:
                return self._metadata[1]
        doc = self._get_json(self.config.discovery_url, "discovery document")
        if doc.get("issuer") != self.config.issuer:
            raise SignInRefused(f"discovery document names issuer {doc.get('issuer')!r}, expected {self.config.issuer!r}", message=MSG_UNREACHABLE)
        fields = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(name)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise SignInRefused(f"discovery document without a usable {name}", message=MSG_UNREACHABLE)
            fields[name] = value
        metadata = ProviderMetadata(issuer=self.config.issuer, **fields)
        with self._lock:
            self._metadata = (self._clock(), metadata)
        return metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (JWKS): kept a day, fetched again on ``refresh`` at most once a minute."""
        with self._lock:
            cached = self._keys
        if cached:
            age = self._clock() - cached[0]
            if age < JWKS_TTL and not (refresh and age >= JWKS_REFRESH_MIN):
                return cached[1]
        doc = self._get_json(self.provider().jwks_uri, "JWKS")
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError) as exc:
            raise SignInRefused(f"the provider's JWKS cannot be read: {exc}", message=MSG_UNREACHABLE) from exc
        with self._lock:
            self._keys = (self._clock(), keys)
        return keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, timeout=self._timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            doc = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SignInRefused(f"cannot fetch the {what} from {url}: {exc}", message=MSG_UNREACHABLE) from exc
        if not isinstance(doc, dict):
            raise SignInRefused(f"the {what} at {url} is not a JSON object", message=MSG_UNREACHABLE)
        return doc

    # -- the flow -----------------------------------------------------------------------------

    def _oauth(self) -> Any:
        return OAuth2Session(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret.reveal(),
            scope=" ".join(self.config.scopes),
            redirect_uri=self.config.redirect_url,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    def begin(self) -> SignInStart:
        """A new sign-in: the provider's authorization URL with state, nonce and an S256 code challenge."""
        flow = Flow(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(64))
        with self._oauth() as oauth:
            url, _ = oauth.create_authorization_url(
                self.provider().authorization_endpoint, state=flow.state, code_verifier=flow.code_verifier, nonce=flow.nonce
            )
        return SignInStart(url=str(url), flow=flow)

    def finish(self, params: Mapping[str, str], flow: Flow) -> OidcIdentity:
        """The callback: check what the provider sent back, exchange the code, check the ID token."""
        state = params.get("state", "")
        if not hmac.compare_digest(state.encode(), flow.state.encode()):
            raise SignInRefused("state in the callback does not match this browser's sign-in", message=MSG_EXPIRED)
        self._spend(flow.state)
        if "error" in params:
            raise SignInRefused(
                f"the provider refused: {params['error']}: {params.get('error_description', '')}".rstrip(": "), message=MSG_CANCELLED
            )
        if "iss" in params and params["iss"] != self.config.issuer:  # RFC 9207: a mix-up with another provider
            raise SignInRefused(f"callback from issuer {params['iss']!r}, expected {self.config.issuer!r}", message=MSG_TENANT)
        code = params.get("code")
        if not code:
            raise SignInRefused("callback without a code")
        return self.validate_id_token(self.exchange(code, flow), nonce=flow.nonce)

    def exchange(self, code: str, flow: Flow) -> str:
        """Trade the code (and the PKCE verifier) for tokens at the token endpoint; return the raw ID token."""
        try:
            with self._oauth() as oauth:
                token = oauth.fetch_token(
                    self.provider().token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow.code_verifier,
                    timeout=self._timeout,
                )
        except requests.RequestException as exc:
            raise SignInRefused(f"cannot reach the token endpoint: {exc}", message=MSG_UNREACHABLE) from exc
        except Exception as exc:  # authlib's OAuthError and friends: the provider refused the code
            if isinstance(exc, SignInRefused):
                raise
            raise SignInRefused(f"the token endpoint refused the code: {exc}") from exc
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise SignInRefused("the token response has no id_token (is the openid scope granted?)")
        return id_token

    def validate_id_token(self, id_token: str, *, nonce: str) -> OidcIdentity:
        """:func:`identity_from_id_token` with the provider's keys, fetched once more for an unknown key id."""
        try:
            return identity_from_id_token(id_token, self.keys(), config=self.config, nonce=nonce, now=self._clock())
        except _UnknownKey:
            return identity_from_id_token(id_token, self.keys(refresh=True), config=self.config, nonce=nonce, now=self._clock())

    def _spend(self, state: str) -> None:
        now = self._clock()
        with self._lock:
            for old, until in list(self._spent.items()):
                if until < now:
                    del self._spent[old]
            if state in self._spent:
                raise SignInRefused("this sign-in's callback was already used (replay)", message=MSG_EXPIRED)
            self._spent[state] = now + FLOW_MAX_AGE

    # -- the flow cookie ----------------------------------------------------------------------

    def _serializer(self) -> URLSafeTimedSerializer:
        key = self._flow_key or hmac.new(self.config.client_secret.reveal().encode(), b"klachtwacht oidc flow cookie", hashlib.sha256).digest()
        return URLSafeTimedSerializer(key, salt="klachtwacht.web.oidc.flow")

    def seal(self, flow: Flow) -> str:
        return self._serializer().dumps({"s": flow.state, "n": flow.nonce, "v": flow.code_verifier})

    def unseal(self, value: str | None) -> Flow:
        """The flow of the cookie; :class:`SignInRefused` when it is absent, forged or older than :data:`FLOW_MAX_AGE`."""
        if not value:
            raise SignInRefused("callback without a sign-in in progress in this browser (no flow cookie)", message=MSG_EXPIRED)
        try:
            data, signed_at = self._serializer().loads(value, return_timestamp=True)
        except BadSignature as exc:
            raise SignInRefused("flow cookie with a bad signature", message=MSG_EXPIRED) from exc
        if self._clock() - signed_at.timestamp() > FLOW_MAX_AGE:
            raise SignInRefused("the sign-in took longer than allowed (flow cookie expired)", message=MSG_EXPIRED)
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("s", "n", "v")):
            raise SignInRefused("flow cookie without state, nonce and verifier", message=MSG_EXPIRED)
        return Flow(state=data["s"], nonce=data["n"], code_verifier=data["v"])


def oidc_routes(
    client: OidcClient,
    *,
    on_identity: Callable[[Request, OidcIdentity], Awaitable[Response] | Response],
    on_refused: Callable[[Request, SignInRefused], Response],
) -> list[Route]:
    """``GET /inloggen/oidc`` (to the provider) and ``GET /inloggen/oidc/terug`` (back from it).

    ``on_identity`` gets the checked identity and answers with the app's response (create the
    server-side session, audit, redirect); ``on_refused`` gets the refusal (audit ``exc.reason``,
    show ``exc.message``). The flow cookie is removed on every callback. Mounting it::

        async def on_identity(request, identity):
            user = session.scalar(select(User).where(User.oidc_tid == identity.tid, User.oidc_oid == identity.oid))
            # no enabled account linked: audit and refuse (403, Dutch); else new_session(...), audit, 303 to "/"

        def on_refused(request, exc):
            # audit exc.reason; error page with exc.message (403)

        routes += oidc_routes(OidcClient(config.web.oidc), on_identity=on_identity, on_refused=on_refused)
    """

    def cookie_path(request: Request) -> str:
        return str(request.scope.get("root_path", "")) + START_PATH

    async def start(request: Request) -> Response:
        try:
            begun = await run_in_threadpool(client.begin)
        except SignInRefused as exc:
            return on_refused(request, exc)
        response = RedirectResponse(begun.url, status_code=303)
        response.set_cookie(
            FLOW_COOKIE, client.seal(begun.flow), max_age=FLOW_MAX_AGE, path=cookie_path(request),
            httponly=True, samesite="lax", secure=client.config.secure_cookies,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    async def callback(request: Request) -> Response:
        try:
            flow = client.unseal(request.cookies.get(FLOW_COOKIE))
            identity = await run_in_threadpool(client.finish, dict(request.query_params), flow)
        except SignInRefused as exc:
            response = on_refused(request, exc)
        else:
            result = on_identity(request, identity)
            response = await result if inspect.isawaitable(result) else result
        response.delete_cookie(FLOW_COOKIE, path=cookie_path(request), httponly=True, samesite="lax", secure=client.config.secure_cookies)
        return response

    return [
        Route(START_PATH, start, methods=["GET"], name="oidc_start"),
        Route(CALLBACK_PATH, callback, methods=["GET"], name="oidc_callback"),
    ]
