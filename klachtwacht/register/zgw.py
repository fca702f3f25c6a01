"""The ZGW register: every complaint becomes a zaak in a Zaken API (Open Zaak and alike).

One registration is five calls, each skipped on a retry when its effect is
already there, so a call that failed half-way is completed by the next one
instead of being duplicated:

1. ``POST zaken`` with ``identificatie`` = our register number;
2. ``POST enkelvoudiginformatieobjecten`` (Documenten API) with the original
   message as ``message/rfc822``, ``identificatie`` = the register number;
3. ``POST zaakinformatieobjecten`` linking the document to the zaak;
4. ``POST rollen``: the sender as ``natuurlijk_persoon`` with a contact rol;
5. ``POST statussen`` when a ``statustype`` is configured.

Every request carries a fresh HS256 JWT and, towards the Zaken API, the
``Accept-Crs``/``Content-Crs`` headers. Unreachable servers, time-outs, 5xx
and 429 answers raise :class:`RegisterUnavailable` (retried by the worker);
any other refusal raises :class:`KlachtwachtError` with the API's
``invalidParams``, so the message is parked as failed with a readable reason.
The secret, the message and the sender's address never reach a log line.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from klachtwacht.config import Secret
from klachtwacht.errors import ConfigError, KlachtwachtError, RegisterUnavailable
from klachtwacht.register.base import RegisterRequest
from rules.deadlines import local_date

__all__ = ["ZgwOptions", "ZgwRegister", "valid_rsin", "CONFIDENTIALITY"]

log = logging.getLogger(__name__)

#: The values of ``vertrouwelijkheidaanduiding``, from open to closed.
CONFIDENTIALITY = (
    "openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk",
    "vertrouwelijk", "confidentieel", "geheim", "zeer_geheim",
)
#: The only coordinate system the Zaken API speaks; its headers are required.
CRS = "EPSG:4326"
#: ``bron`` of the zaak's kenmerk, ``auteur`` of the document, ``user_id`` of the token.
SOURCE = "klachtwacht"
#: ISO 639-2/B, as the Documenten API asks for ``taal`` ("Voorbeeld: dut").
LANGUAGE = "dut"
ROL_TOELICHTING = "indiener klacht"
BETROKKENE_TYPE = "natuurlijk_persoon"
#: Seconds a token is valid; a fresh one is made for every request.
TOKEN_LIFETIME = 3600
DEFAULT_TIMEOUT = 30.0
#: Field lengths of the specifications.
MAX_IDENTIFICATIE = MAX_KENMERK = 40
MAX_OMSCHRIJVING = 80
MAX_TOELICHTING = 1000
MAX_TITEL = 200
MAX_CONTACT_NAAM = 40
MAX_REASON = 200

_URL_KEYS = ("zaken_url", "documenten_url", "zaaktype", "informatieobjecttype", "roltype", "statustype")
_KEYS = _URL_KEYS + (
    "client_id", "secret_env", "secret_file", "secret", "bronorganisatie",
    "verantwoordelijke_organisatie", "vertrouwelijkheidaanduiding", "timeout",
)
_REQUIRED = ("zaken_url", "documenten_url", "client_id", "zaaktype", "informatieobjecttype", "roltype", "bronorganisatie")


def valid_rsin(value: str) -> bool:
    """True when ``value`` is nine digits that pass the 11-proef (as RSIN and BSN do)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:8], range(9, 1, -1)))
    return (total - int(value[8])) % 11 == 0


@dataclass(frozen=True)
class ZgwOptions:
    """The validated ``[register]`` table of the ``zgw`` backend."""

    zaken_url: str
    documenten_url: str
    client_id: str
    secret: Secret
    zaaktype: str
    informatieobjecttype: str
    roltype: str
    bronorganisatie: str
    verantwoordelijke_organisatie: str
    statustype: str | None = None
    vertrouwelijkheidaanduiding: str = "vertrouwelijk"
    timeout: float = DEFAULT_TIMEOUT


def _parse_options(options: Mapping[str, Any], path: str, env: Mapping[str, str]) -> ZgwOptions:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(path, "register." + key, problem)

    for key in options:
        if key not in _KEYS:
            raise fail(key, "unknown key for the zgw register (known: %s)" % ", ".join(sorted(k for k in _KEYS if k != "secret")))
    if "secret" in options:
        raise fail("secret", "secrets are never inline: use secret_env or secret_file")
    for key in _REQUIRED:
        if key not in options:
            raise fail(key, "is required for the zgw register")
    values: dict[str, Any] = {}
    for key in _KEYS:
        if key in options and key not in ("timeout",):
            if not isinstance(options[key], str) or not options[key].strip():
                raise fail(key, "must be a non-empty string")
            values[key] = options[key].strip()
    for key in _URL_KEYS:
        if key in values:
            parts = urlsplit(values[key])
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise fail(key, "must be an http:// or https:// URL, not %r" % values[key])
    for key in ("bronorganisatie", "verantwoordelijke_organisatie"):
        if key in values and not valid_rsin(values[key]):
            raise fail(key, "must be an RSIN: nine digits that pass the 11-proef, not %r" % values[key])
    level = values.get("vertrouwelijkheidaanduiding", "vertrouwelijk")
    if level not in CONFIDENTIALITY:
        raise fail("vertrouwelijkheidaanduiding", "must be one of %s, not %r" % (", ".join(CONFIDENTIALITY), level))
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise fail("timeout", "must be a number of seconds greater than zero")
    return ZgwOptions(
        zaken_url=values["zaken_url"].rstrip("/"),
        documenten_url=values["documenten_url"].rstrip("/"),
        client_id=values["client_id"],
        secret=_read_secret(values, fail, env),
        zaaktype=values["zaaktype"],
        informatieobjecttype=values["informatieobjecttype"],
        roltype=values["roltype"],
        statustype=values.get("statustype"),
        bronorganisatie=values["bronorganisatie"],
        verantwoordelijke_organisatie=values.get("verantwoordelijke_organisatie", values["bronorganisatie"]),
        vertrouwelijkheidaanduiding=level,
        timeout=float(timeout),
    )


def _read_secret(values: Mapping[str, str], fail: Callable[[str, str], ConfigError], env: Mapping[str, str]) -> Secret:
    if "secret_env" in values and "secret_file" in values:
        raise fail("secret_env", "give secret_env or secret_file, not both")
    if "secret_env" in values:
        value = env.get(values["secret_env"], "")
        if not value:
            raise fail("secret_env", "environment variable %s is not set or empty" % values["secret_env"])
        return Secret(value)
    if "secret_file" in values:
        try:
            value = Path(values["secret_file"]).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise fail("secret_file", "cannot read %s: %s" % (values["secret_file"], getattr(exc, "strerror", None) or exc)) from exc
        if not value:
            raise fail("secret_file", "%s is empty" % values["secret_file"])
        return Secret(value)
    raise fail("secret_env", "the JWT secret is required (secret_env or secret_file)")


@dataclass
class _Progress:
    """What an earlier attempt already left on a zaak."""

    document: str | None = None
    linked: bool = False
    rol: bool = False
    status: bool = False


class _Refused(KlachtwachtError):
    """Raised when the API refused a request for good (a 4xx other than 429)."""

    def __init__(self, message: str, codes: frozenset[str]) -> None:
        super().__init__(message)
        self.codes = codes


class ZgwRegister:
    """Registers complaints as zaken through the ZGW Zaken and Documenten APIs.

    ``find`` returns the URL of the zaak whose ``identificatie`` is the
    request's number, but only when the registration is complete; a zaak
    left half-made by a crash yields None, so the caller runs ``create``,
    which completes that same zaak. ``create`` returns the zaak's URL.
    """

    name = "zgw"

    def __init__(
        self,
        options: ZgwOptions,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.options = options
        self.session = session or requests.Session()
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], path_for_errors: str, *, env: Mapping[str, str] | None = None
    ) -> ZgwRegister:
        """Validate the ``[register]`` table; a wrong value raises ConfigError naming ``register.<key>``."""
        return cls(_parse_options(options, path_for_errors, os.environ if env is None else env))

    def __repr__(self) -> str:
        return "ZgwRegister(zaken_url=%r, client_id=%r)" % (self.options.zaken_url, self.options.client_id)

    # -- the protocol ---------------------------------------------------------

    def find(self, request: RegisterRequest) -> str | None:
        """The URL of the complete zaak registered for ``request``, or None."""
        zaak = self._lookup_zaak(request)
        if zaak is None:
            return None
        progress = self._progress(request, zaak["url"])
        if progress.linked and progress.rol and progress.status:
            return str(zaak["url"])
        log.info("zaak %s for %s exists but is incomplete", zaak["url"], request.number)
        return None

    def create(self, request: RegisterRequest) -> str:
        """Register ``request`` as a zaak (or complete its zaak) and return the zaak's URL."""
        zaak = self._lookup_zaak(request)
        if zaak is None:
            zaak = self._create_zaak(request)
            progress = _Progress(status=self.options.statustype is None)
        else:
            progress = self._progress(request, zaak["url"])
        url = str(zaak["url"])
        if not progress.linked:
            document = progress.document or self._create_document(request)
            self._post(self.options.zaken_url, "zaakinformatieobjecten", {
                "zaak": url, "informatieobject": document, "titel": self._title(request),
            })
        if not progress.rol:
            self._post(self.options.zaken_url, "rollen", self._rol(request, url))
        if not progress.status:
            self._post(self.options.zaken_url, "statussen", {
                "zaak": url, "statustype": self.options.statustype,
                "datumStatusGezet": self.clock().isoformat(),
                "statustoelichting": "Klacht geregistreerd door klachtwacht",
            })
        log.info("registered %s as zaak %s", request.number, url)
        return url

    # -- the steps ------------------------------------------------------------

    def _lookup_zaak(self, request: RegisterRequest) -> dict[str, Any] | None:
        found = self._get(self.options.zaken_url, "zaken", {
            "identificatie": request.number, "bronorganisatie": self.options.bronorganisatie,
        })
        results = found.get("results") or []
        return dict(results[0]) if results else None

    def _progress(self, request: RegisterRequest, zaak: str) -> _Progress:
        o = self.options
        documents = self._get(o.documenten_url, "enkelvoudiginformatieobjecten", {
            "identificatie": request.number, "bronorganisatie": o.bronorganisatie,
        }).get("results") or []
        progress = _Progress(document=str(documents[0]["url"]) if documents else None)
        if progress.document is not None:
            links = self._get(o.zaken_url, "zaakinformatieobjecten", {"zaak": zaak, "informatieobject": progress.document})
            progress.linked = any(link.get("informatieobject") == progress.document for link in links)
        rollen = self._get(o.zaken_url, "rollen", {"zaak": zaak, "roltype": o.roltype})
        progress.rol = bool(rollen.get("results"))
        if o.statustype is None:
            progress.status = True
        else:
            statussen = self._get(o.zaken_url, "statussen", {"zaak": zaak, "statustype": o.statustype})
            progress.status = bool(statussen.get("results"))
        return progress

    def _create_zaak(self, request: RegisterRequest) -> dict[str, Any]:
        o = self.options
        received = request.terms.received.isoformat()
        body = {
            "identificatie": request.number,
            "bronorganisatie": o.bronorganisatie,
            "verantwoordelijkeOrganisatie": o.verantwoordelijke_organisatie,
            "zaaktype": o.zaaktype,
            "omschrijving": (request.subject.strip() or "Klacht %s" % request.number)[:MAX_OMSCHRIJVING],
            "toelichting": self._explanation(request)[:MAX_TOELICHTING],
            "registratiedatum": local_date(self.clock()).isoformat(),
            "startdatum": received,
            "uiterlijkeEinddatumAfdoening": request.terms.due.isoformat(),
            "vertrouwelijkheidaanduiding": o.vertrouwelijkheidaanduiding,
            "kenmerken": [{"kenmerk": _kenmerk(request), "bron": SOURCE}],
        }
        try:
            return self._post(o.zaken_url, "zaken", body)
        except _Refused as exc:
            # Someone (another worker) created it between our look-up and our post.
            if "identificatie-niet-uniek" in exc.codes:
                zaak = self._lookup_zaak(request)
                if zaak is not None:
                    return zaak
            raise

    def _create_document(self, request: RegisterRequest) -> str:
        o = self.options
        received = request.terms.received.isoformat()
        document = self._post(o.documenten_url, "enkelvoudiginformatieobjecten", {
            "identificatie": request.number,
            "bronorganisatie": o.bronorganisatie,
            "creatiedatum": received,
            "ontvangstdatum": received,
            "titel": self._title(request),
            "auteur": SOURCE,
            "taal": LANGUAGE,
            "formaat": "message/rfc822",
            "bestandsnaam": "%s.eml" % request.number,
            "inhoud": base64.b64encode(request.raw).decode("ascii"),
            "informatieobjecttype": o.informatieobjecttype,
            "vertrouwelijkheidaanduiding": o.vertrouwelijkheidaanduiding,
            "indicatieGebruiksrecht": False,
        })
        return str(document["url"])

    def _rol(self, request: RegisterRequest, zaak: str) -> dict[str, Any]:
        contact: dict[str, str] = {
            "naam": (request.sender_name.strip() or request.sender_address or "onbekend")[:MAX_CONTACT_NAAM],
        }
        if request.sender_address:
            contact["emailadres"] = request.sender_address
        return {
            "zaak": zaak,
            "betrokkeneType": BETROKKENE_TYPE,
            "roltype": self.options.roltype,
            "roltoelichting": ROL_TOELICHTING,
            "contactpersoonRol": contact,
        }

    @staticmethod
    def _title(request: RegisterRequest) -> str:
        subject = request.subject.strip()
        return ("Klacht %s: %s" % (request.number, subject) if subject else "Klacht %s" % request.number)[:MAX_TITEL]

    @staticmethod
    def _explanation(request: RegisterRequest) -> str:
        return (
            "Klacht ontvangen op %s per e-mail in %s (%s), geregistreerd door klachtwacht. "
            "Uiterste afhandeldatum (Awb 9:11): %s; weigeren kan tot (Awb 9:8): %s."
            % (
                request.terms.received.strftime("%d-%m-%Y"), ", ".join(request.mailboxes) or "-",
                request.organisation.display_name, request.terms.due.strftime("%d-%m-%Y"),
                request.terms.refusal_due.strftime("%d-%m-%Y"),
            )
        )

    # -- HTTP -----------------------------------------------------------------

    def _token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.options.client_id, "iat": now, "exp": now + TOKEN_LIFETIME,
            "client_id": self.options.client_id, "user_id": SOURCE, "user_representation": SOURCE,
        }
        return jwt.encode(claims, self.options.secret.reveal(), algorithm="HS256")

    def _headers(self, base: str, body: bool) -> dict[str, str]:
        headers = {"Authorization": "Bearer " + self._token(), "Accept": "application/json"}
        if base == self.options.zaken_url:
            headers["Accept-Crs"] = headers["Content-Crs"] = CRS
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def _get(self, base: str, resource: str, params: Mapping[str, str]) -> Any:
        return self._call("GET", base, resource, params=params)

    def _post(self, base: str, resource: str, body: Mapping[str, Any]) -> Any:
        return self._call("POST", base, resource, body=body)

    def _call(self, method: str, base: str, resource: str, *, params: Mapping[str, str] | None = None,
              body: Mapping[str, Any] | None = None) -> Any:
        what = "%s %s" % (method, resource)
        api = "the Zaken API" if base == self.options.zaken_url else "the Documenten API"
        try:
            response = self.session.request(
                method, "%s/%s" % (base, resource), params=params, json=body,
                headers=self._headers(base, body is not None), timeout=self.options.timeout,
            )
        except requests.Timeout as exc:
            raise RegisterUnavailable("%s did not answer %s within %g s" % (api, what, self.options.timeout)) from exc
        except requests.RequestException as exc:
            raise RegisterUnavailable("%s cannot be reached for %s: %s" % (api, what, type(exc).__name__)) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            log.warning("%s answered %s with %d", api, what, status)
            raise RegisterUnavailable(
                "%s answered %s with %d %s" % (api, what, status, response.reason or ""),
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        if not 200 <= status < 300:
            raise _refusal(api, what, response)
        try:
            return response.json()
        except ValueError as exc:
            raise KlachtwachtError("%s answered %s with %d but not with JSON" % (api, what, status)) from exc


def _refusal(api: str, what: str, response: requests.Response) -> _Refused:
    """The error for a 4xx answer, with the problem document's details."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    params = [p for p in problem.get("invalidParams") or [] if isinstance(p, dict)]
    details = "; ".join(
        "%s: %s (%s)" % (p.get("name", "?"), p.get("code", "?"), str(p.get("reason", ""))[:MAX_REASON]) for p in params
    ) or str(problem.get("detail") or problem.get("title") or response.reason or "")[:MAX_REASON]
    codes = frozenset(str(p.get("code")) for p in params)
    return _Refused("%s refused %s with %d: %s" % (api, what, response.status_code, details), codes)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _kenmerk(request: RegisterRequest) -> str:
    """The Message-ID (without brackets) when it fits the 40 characters, else a digest of it, else the number."""
    if not request.message_id:
        return request.number
    message_id = request.message_id.strip().strip("<>")
    if message_id and len(message_id) <= MAX_KENMERK:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[: MAX_KENMERK - 7]
