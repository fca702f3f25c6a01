"""The ZGW register: every complaint becomes a zaak in a Zaken API (Open Zaak and alike).

One registration is up to five calls, each skipped on a retry when its effect
is already there, so a call that failed half-way is completed by the next
one instead of duplicated:

1. ``POST zaken``, ``identificatie`` = our register number;
2. ``POST enkelvoudiginformatieobjecten`` (Documenten API): the original
   message as ``message/rfc822``, ``identificatie`` = the register number;
3. ``POST zaakinformatieobjecten`` linking the document to the zaak;
4. ``POST rollen``: the sender, a ``natuurlijk_persoon`` with a contact rol;
5. ``POST statussen`` when a ``statustype`` is configured.

Every request carries a fresh HS256 JWT and, towards the Zaken API, the
``Accept-Crs``/``Content-Crs`` headers. Unreachable servers, time-outs, 5xx
and 429 raise :class:`RegisterUnavailable` (the worker retries); any other
refusal raises a :class:`KlachtwachtError` quoting the API's
``invalidParams``, so the message is parked as failed with a readable reason.
The secret, the message and the sender's address never reach a log line.
The ``[register]`` options are validated in
:mod:`klachtwacht.register.zgw_options`; their public names are re-exported here.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
import requests

from klachtwacht.errors import KlachtwachtError, RegisterUnavailable
from klachtwacht.register.base import RegisterRequest
from klachtwacht.register.zgw_options import CONFIDENTIALITY, ZgwOptions, parse_options, valid_rsin
from rules.deadlines import local_date

__all__ = ["ZgwOptions", "ZgwRegister", "parse_options", "valid_rsin", "CONFIDENTIALITY"]

log = logging.getLogger(__name__)

#: The one coordinate system of the Zaken API; its two headers are required.
CRS = "EPSG:4326"
#: ``bron`` of the zaak's kenmerk, ``auteur`` of the document, ``user_id`` of the token.
SOURCE = "klachtwacht"
#: ISO 639-2/B, which the Documenten API asks for in ``taal`` ("Voorbeeld: dut").
LANGUAGE = "dut"
ROL_TOELICHTING = "indiener klacht"
#: Seconds a token is valid; every request gets a fresh one.
TOKEN_LIFETIME = 3600
#: Field lengths of the specifications.
MAX_KENMERK, MAX_OMSCHRIJVING, MAX_TOELICHTING, MAX_TITEL, MAX_NAAM, MAX_EMAIL = 40, 80, 1000, 200, 40, 254
#: How much of a refusal's reason goes into the error.
MAX_REASON = 200
_ADDRESS = re.compile(r"[^\s'\"<>()]+@[^\s'\"<>()]+")


@dataclass
class _Progress:
    """What an earlier attempt already left on a zaak."""

    document: str | None = None
    linked: bool = False
    rol: bool = False
    status: bool = False


class _Refused(KlachtwachtError):
    """Raised when an API refused a request for good (a 4xx other than 429)."""

    def __init__(self, message: str, codes: frozenset[str], status: int = 400) -> None:
        super().__init__(message)
        self.codes = codes
        self.status = status


class _Raced(RegisterUnavailable):
    """Raised when another worker made the same resource just before us; retried when it escapes."""


class ZgwRegister:
    """Registers complaints as zaken through the ZGW Zaken and Documenten APIs.

    ``find`` returns the URL of the zaak whose ``identificatie`` is the
    request's number, but only once its registration is complete: a zaak
    left half-made by a crash yields None, so the caller runs ``create``,
    which completes that same zaak. ``create`` returns the zaak's URL. Safe
    to share between threads (one HTTP session per thread).
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
        self._session = session
        self._local = threading.local()
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], path_for_errors: str, *, env: Mapping[str, str] | None = None
    ) -> ZgwRegister:
        """Build from the ``[register]`` table (without ``backend``); ``env`` defaults to os.environ."""
        return cls(parse_options(options, path_for_errors, os.environ if env is None else env))

    def __repr__(self) -> str:
        return "ZgwRegister(zaken_url=%r, client_id=%r)" % (self.options.zaken_url, self.options.client_id)

    def find(self, request: RegisterRequest) -> str | None:
        """The URL of the complete zaak registered for ``request``, or None."""
        zaak = self._lookup_zaak(request)
        if zaak is None:
            return None
        progress = self._progress(request, zaak)
        if progress.linked and progress.rol and progress.status:
            return zaak
        log.info("zaak %s of %s is incomplete; create() will complete it", zaak, request.number)
        return None

    def create(self, request: RegisterRequest) -> str:
        """Register ``request`` as a zaak, or complete its earlier zaak, and return the zaak's URL."""
        zaak = self._lookup_zaak(request)
        fresh = zaak is None
        if zaak is None:
            try:
                zaak = self._post(self.options.zaken_url, "zaken", self._zaak(request), raced="identificatie-niet-uniek")
            except _Raced:
                zaak, fresh = self._lookup_zaak(request), False
                if zaak is None:
                    raise
        progress = _Progress(status=self.options.statustype is None) if fresh else self._progress(request, zaak)
        try:
            self._complete(request, zaak, progress)
        except _Raced:  # another worker did a step just before us: look again, do the rest
            self._complete(request, zaak, self._progress(request, zaak))
        log.info("registered %s as zaak %s", request.number, zaak)
        return zaak

    def zaak_exists(self, url: str) -> bool:
        """Whether the zaak at ``url`` is still there: False when the Zaken API answers 404 (or 410).

        Raises :class:`RegisterUnavailable` when the API cannot say, and
        :class:`KlachtwachtError` for a URL outside the configured Zaken API.
        """
        prefix = self.options.zaken_url.rstrip("/") + "/"
        if not url.startswith(prefix + "zaken/"):
            raise KlachtwachtError("zaak URL %s is not in the configured Zaken API (%s)" % (url, self.options.zaken_url))
        try:
            self._call("GET", self.options.zaken_url, url[len(prefix):])
        except _Refused as exc:
            if exc.status in (404, 410):
                return False
            raise
        return True

    def _complete(self, request: RegisterRequest, zaak: str, progress: _Progress) -> None:
        o = self.options
        if not progress.linked:
            document = progress.document or self._post(
                o.documenten_url, "enkelvoudiginformatieobjecten", self._document(request), raced="identificatie-niet-uniek"
            )
            link = {"zaak": zaak, "informatieobject": document, "titel": _title(request)}
            self._post(o.zaken_url, "zaakinformatieobjecten", link, raced="unique")
        if not progress.rol:
            self._post(o.zaken_url, "rollen", self._rol(request, zaak))
        if not progress.status:
            self._post(o.zaken_url, "statussen", {
                "zaak": zaak, "statustype": o.statustype, "datumStatusGezet": self.clock().isoformat(),
                "statustoelichting": "Klacht geregistreerd door klachtwacht",
            })

    def _lookup_zaak(self, request: RegisterRequest) -> str | None:
        found = self._get(self.options.zaken_url, "zaken", {"identificatie": request.number, "bronorganisatie": self.options.bronorganisatie})
        return str(found[0]["url"]) if found else None

    def _progress(self, request: RegisterRequest, zaak: str) -> _Progress:
        o = self.options
        documents = self._get(o.documenten_url, "enkelvoudiginformatieobjecten", {"identificatie": request.number, "bronorganisatie": o.bronorganisatie})
        progress = _Progress(document=str(documents[0]["url"]) if documents else None)
        if progress.document is not None:
            links = self._get(o.zaken_url, "zaakinformatieobjecten", {"zaak": zaak, "informatieobject": progress.document})
            progress.linked = any(link.get("informatieobject") == progress.document for link in links)
        progress.rol = bool(self._get(o.zaken_url, "rollen", {"zaak": zaak, "roltype": o.roltype}))
        progress.status = o.statustype is None or bool(self._get(o.zaken_url, "statussen", {"zaak": zaak, "statustype": o.statustype}))
        return progress

    def _zaak(self, request: RegisterRequest) -> dict[str, Any]:
        o = self.options
        subject = " ".join(request.subject.split())
        return {
            "identificatie": request.number,
            "bronorganisatie": o.bronorganisatie,
            "verantwoordelijkeOrganisatie": o.verantwoordelijke_organisatie,
            "zaaktype": o.zaaktype,
            "omschrijving": (subject or "Klacht %s" % request.number)[:MAX_OMSCHRIJVING],
            "toelichting": _explanation(request)[:MAX_TOELICHTING],
            "registratiedatum": local_date(self.clock()).isoformat(),
            "startdatum": request.terms.received.isoformat(),
            "uiterlijkeEinddatumAfdoening": request.terms.due.isoformat(),
            "vertrouwelijkheidaanduiding": o.vertrouwelijkheidaanduiding,
            "kenmerken": [{"kenmerk": _kenmerk(request), "bron": SOURCE}],
        }

    def _document(self, request: RegisterRequest) -> dict[str, Any]:
        o = self.options
        received = request.terms.received.isoformat()
        return {
            "identificatie": request.number,
            "bronorganisatie": o.bronorganisatie,
            "creatiedatum": received,
            "ontvangstdatum": received,
            "titel": _title(request),
            "auteur": SOURCE,
            "taal": LANGUAGE,
            "formaat": "message/rfc822",
            "bestandsnaam": "%s.eml" % request.number,
            "inhoud": base64.b64encode(request.raw).decode("ascii"),
            "informatieobjecttype": o.informatieobjecttype,
            "vertrouwelijkheidaanduiding": o.vertrouwelijkheidaanduiding,
            "indicatieGebruiksrecht": False,
        }

    def _rol(self, request: RegisterRequest, zaak: str) -> dict[str, Any]:
        address = request.sender_address or ""
        address = address if "@" in address and len(address) <= MAX_EMAIL else ""
        contact = {"naam": (" ".join(request.sender_name.split()) or address or "onbekend")[:MAX_NAAM]}
        if address:
            contact["emailadres"] = address
        return {
            "zaak": zaak,
            "betrokkeneType": "natuurlijk_persoon",
            "roltype": self.options.roltype,
            "roltoelichting": ROL_TOELICHTING,
            "contactpersoonRol": contact,
        }

    # -- HTTP -----------------------------------------------------------------

    def _token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.options.client_id, "iat": now, "exp": now + TOKEN_LIFETIME,
            "client_id": self.options.client_id, "user_id": SOURCE, "user_representation": SOURCE,
        }
        return jwt.encode(claims, self.options.secret.reveal(), algorithm="HS256")

    def _http(self) -> requests.Session:
        if self._session is not None:
            return self._session
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _get(self, base: str, resource: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The results of a list call (paginated or not); only the first page, as the filters select few."""
        answer = self._call("GET", base, resource, params=params)
        results = answer.get("results") if isinstance(answer, dict) else answer
        if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
            raise KlachtwachtError("%s answered GET %s with an unexpected document" % (_api(self, base), resource))
        return results

    def _post(self, base: str, resource: str, body: Mapping[str, Any], *, raced: str | None = None) -> str:
        """Create a resource and return its URL; a refusal with the code ``raced`` raises :class:`_Raced`."""
        try:
            answer = self._call("POST", base, resource, body=body)
        except _Refused as exc:
            if raced in exc.codes:
                raise _Raced("another worker created this %s just before us" % resource) from exc
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get("url"), str):
            raise KlachtwachtError("%s answered POST %s without the new resource's url" % (_api(self, base), resource))
        return str(answer["url"])

    def _call(self, method: str, base: str, resource: str, *, params: Mapping[str, str] | None = None,
              body: Mapping[str, Any] | None = None) -> Any:
        api, what = _api(self, base), "%s %s" % (method, resource)
        headers = {"Authorization": "Bearer " + self._token(), "Accept": "application/json"}
        if base == self.options.zaken_url:
            headers["Accept-Crs"] = headers["Content-Crs"] = CRS
        try:
            response = self._http().request(
                method, "%s/%s" % (base, resource), params=params, json=body, headers=headers, timeout=self.options.timeout,
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


def _api(register: ZgwRegister, base: str) -> str:
    return "the Zaken API" if base == register.options.zaken_url else "the Documenten API"


def _title(request: RegisterRequest) -> str:
    subject = " ".join(request.subject.split())
    return ("Klacht %s: %s" % (request.number, subject) if subject else "Klacht %s" % request.number)[:MAX_TITEL]


def _explanation(request: RegisterRequest) -> str:
    terms = request.terms
    return (
        "Klacht per e-mail ontvangen op %s in %s (%s), geregistreerd door klachtwacht. "
        "Uiterste afhandeldatum (Awb 9:11): %s; weigeren kan tot (Awb 9:8): %s."
        % (terms.received.strftime("%d-%m-%Y"), ", ".join(request.mailboxes) or "-", request.organisation.display_name,
           terms.due.strftime("%d-%m-%Y"), terms.refusal_due.strftime("%d-%m-%Y"))
    )


def _kenmerk(request: RegisterRequest) -> str:
    """The Message-ID without brackets when it fits 40 characters, else a digest of it; without one, the number."""
    message_id = (request.message_id or "").strip().strip("<>")
    if not message_id:
        return request.number
    if len(message_id) <= MAX_KENMERK:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[: MAX_KENMERK - len("sha256:")]


def _refusal(api: str, what: str, response: requests.Response) -> _Refused:
    """The error for a 4xx answer, quoting the problem document's ``invalidParams`` or detail."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    problem = problem if isinstance(problem, dict) else {}
    params = [p for p in problem.get("invalidParams") or [] if isinstance(p, dict)]
    details = "; ".join(
        "%s: %s (%s)" % (p.get("name", "?"), p.get("code", "?"), str(p.get("reason", ""))[:MAX_REASON]) for p in params
    ) or str(problem.get("detail") or problem.get("title") or response.reason or "")[:MAX_REASON]
    codes = frozenset(str(p.get("code")) for p in params)
    # The error may be logged and shown: no address the API might quote back.
    return _Refused("%s refused %s with %d: %s" % (api, what, response.status_code, _ADDRESS.sub("<adres>", details)), codes, response.status_code)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
