"""A ZGW Zaken and Documenten API in memory that holds every exchange to the published specifications.

:class:`ZgwServer` is a threaded HTTP server on a free loopback port. It
serves ``/zaken/api/v1/`` (zaken, zaakinformatieobjecten, rollen, statussen)
and ``/documenten/api/v1/`` (enkelvoudiginformatieobjecten) and:

- validates every request with openapi-core against the OpenAPI files in
  ``shared/specs`` beside the repository (path, query, required headers such
  as ``Accept-Crs``, security, body schema) and answers 400 with a
  ``ValidatieFout`` when one does not conform;
- checks the bearer JWT (HS256 with :data:`TEST_SECRET`, the claims
  ``iss``, ``iat``, ``exp``, ``client_id``, ``user_id``,
  ``user_representation``, not expired) and answers 403 otherwise;
- validates its own responses too and lists any violation in
  :attr:`ZgwServer.spec_violations`, which tests assert to be empty;
- records every request in :attr:`ZgwServer.requests`;
- plays down on cue: :meth:`ZgwServer.fail_with` (503/429 with Retry-After),
  :attr:`ZgwServer.drop_connections`, :attr:`ZgwServer.delay`, and
  :attr:`ZgwServer.crash_after` (store the resource, then answer 500).

The catalogue URLs (zaaktype, informatieobjecttype, roltype, statustype) are
fake URLs on the same server; only they are accepted. The Zaken API's rule
that the informatieobjecttype belongs to the zaaktype is not emulated.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.validation.request.exceptions import SecurityValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["ZgwServer", "RecordedRequest", "SpecsMissing", "load_spec", "SPECS", "TEST_SECRET", "TEST_CLIENT_ID"]

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
SPEC_FILES = {
    "zaken": "standaard/zaken/zrc/1.7.x/1.7.0/openapi.yaml",
    "documenten": "standaard/documenten/drc/1.7.x/1.7.1/openapi.yaml",
}
#: The server URL each specification declares; requests are validated as if sent there.
SPEC_SERVERS = {"zaken": "https://zaken-api.vng.cloud", "documenten": "https://documenten-api.vng.cloud"}
API_VERSIONS = {"zaken": "1.7.0", "documenten": "1.7.1"}
TEST_SECRET = "zgw-test-secret-for-hs256-tokens"
TEST_CLIENT_ID = "klachtwacht-test"
REQUIRED_CLAIMS = ("iss", "iat", "exp", "client_id", "user_id", "user_representation")
RESOURCES = {"zaken": "zaken", "zaakinformatieobjecten": "zaken", "rollen": "zaken", "statussen": "zaken",
             "enkelvoudiginformatieobjecten": "documenten"}


class SpecsMissing(RuntimeError):
    """Raised when the ZGW OpenAPI specifications are not where the contract tests expect them."""


@dataclass(frozen=True)
class _Specs:
    requests: OpenAPI
    responses: OpenAPI


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.scheme in ("urn", "mailto")))


@lru_cache(maxsize=None)
def load_spec(api: str) -> _Specs:
    """The parsed specification of ``api`` ("zaken" or "documenten"), loaded once per process."""
    path = SPECS / SPEC_FILES[api]
    if not path.is_file():
        raise SpecsMissing(
            "the ZGW OpenAPI specification %s is missing: the contract tests need the folder "
            "shared/specs beside the repository (expected %s)" % (SPEC_FILES[api], path)
        )
    # The error answers are application/problem+json, which openapi-core does not parse by itself;
    # "uri" is only checked by jsonschema when rfc3987 is installed, so check it here.
    common: dict[str, Any] = {
        "extra_media_type_deserializers": {"application/problem+json": json_loads},
        "extra_format_validators": {"uri": _is_uri},
    }
    responses = OpenAPI.from_file_path(str(path), config=Config(**common))
    # Requests are held stricter: a property the specification does not define is a typo, not an extension.
    requests = OpenAPI(responses.spec, config=Config(spec_validator_cls=None, additional_properties_default_policy="forbid", **common))
    return _Specs(requests, responses)


@dataclass
class RecordedRequest:
    """One request as the server saw it, with the claims of its token once checked."""

    method: str
    path: str
    resource: str
    query: dict[str, str]
    headers: Headers
    body: Any
    claims: dict[str, Any] | None = None
    status: int = 0


@dataclass
class _SpecRequest:
    """A request in the shape openapi-core validates."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class _SpecResponse:
    """A response in the shape openapi-core validates."""

    status_code: int
    headers: Headers
    content_type: str
    data: bytes


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: A fault played on cue: not a refusal of the client's request.
    fault: bool = False
    #: Whether the answer must conform to the specification (faults such as a 503 need not).
    validate: bool = True


class _Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, invalid: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.invalid = status, code, detail, invalid


def _invalid(name: str, code: str, reason: str) -> _Problem:
    return _Problem(400, "invalid", "Invalid input.", [{"name": name, "code": code, "reason": reason}])


class ZgwServer:
    """The in-memory Zaken and Documenten API; use as a context manager."""

    def __init__(self, *, secret: str = TEST_SECRET, client_id: str = TEST_CLIENT_ID) -> None:
        self.secret, self.client_id = secret, client_id
        self.specs = {api: load_spec(api) for api in SPEC_FILES}
        self._lock = threading.Lock()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- life -----------------------------------------------------------------

    def start(self) -> ZgwServer:
        handler = type("_Handler", (_Handler,), {"zgw": self})
        self._http = _HttpServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), name="zgw-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __enter__(self) -> ZgwServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every resource, request and switch."""
        self.zaken: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.rollen: dict[str, dict[str, Any]] = {}
        self.statussen: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.spec_violations: list[str] = []
        self.rejected: list[str] = []
        self.down: tuple[int, int | None] | None = None
        self.drop_connections = False
        self.delay = 0.0
        self.crash_after: set[str] = set()

    def fail_with(self, status: int = 503, retry_after: int | None = None) -> None:
        """Answer every request with ``status`` (and Retry-After) until :meth:`recover`."""
        self.down = (status, retry_after)

    def recover(self) -> None:
        self.down, self.drop_connections, self.delay = None, False, 0.0

    # -- addresses ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._http is not None, "the server is not started"
        return "http://127.0.0.1:%d" % self._http.server_address[1]

    @property
    def zaken_url(self) -> str:
        return self.base_url + "/zaken/api/v1"

    @property
    def documenten_url(self) -> str:
        return self.base_url + "/documenten/api/v1"

    def catalogue(self, kind: str) -> str:
        """The fake catalogue URL of ``kind`` (zaaktypen, informatieobjecttypen, roltypen, statustypen)."""
        return "%s/catalogi/api/v1/%s/%s" % (self.base_url, kind, uuid.uuid5(uuid.NAMESPACE_URL, kind))

    def register_options(self, secret_env: str = "KW_ZGW_SECRET", **extra: Any) -> dict[str, Any]:
        """A ``[register]`` table for the zgw backend pointing at this server."""
        options = {
            "zaken_url": self.zaken_url, "documenten_url": self.documenten_url,
            "client_id": self.client_id, "secret_env": secret_env,
            "zaaktype": self.catalogue("zaaktypen"), "informatieobjecttype": self.catalogue("informatieobjecttypen"),
            "roltype": self.catalogue("roltypen"), "bronorganisatie": "002220647",
            "verantwoordelijke_organisatie": "517439943", "timeout": 5,
        }
        options.update(extra)
        return options

    def posts(self, resource: str | None = None) -> list[RecordedRequest]:
        """The recorded POST requests, of ``resource`` when given."""
        return [r for r in self.requests if r.method == "POST" and resource in (None, r.resource)]

    # -- one exchange ---------------------------------------------------------

    def answer(self, method: str, target: str, headers: Headers, raw: bytes) -> _Answer | None:
        """Handle one request; None means: drop the connection without an answer."""
        url = urlsplit(target)
        parts = url.path.strip("/").split("/")
        api = parts[0] if parts else ""
        resource = parts[3] if len(parts) > 3 else ""
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        with self._lock:
            record = RecordedRequest(method, url.path, resource, query, headers, body)
            self.requests.append(record)
            answer = self._answer(record, api, raw, headers, url.query)
            if answer is not None:
                record.status = answer.status
                if answer.status >= 400 and not answer.fault:
                    self.rejected.append("%s %s: %d %s" % (method, url.path, answer.status, json.dumps(answer.body)))
        if self.delay:
            time.sleep(self.delay)
        return answer

    def _answer(self, record: RecordedRequest, api: str, raw: bytes, headers: Headers, query: str) -> _Answer | None:
        if self.drop_connections:
            return None
        if self.down is not None:
            status, retry_after = self.down
            extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return _Answer(status, _fout(status, "unavailable", "Service unavailable (test)"), extra, fault=True, validate=False)
        if api not in SPEC_FILES or len(record.path.strip("/").split("/")) != 4 or RESOURCES.get(record.resource) != api:
            return _Answer(404, _fout(404, "not_found", "Niet gevonden."), validate=False)
        spec_request = _SpecRequest(
            host_url=SPEC_SERVERS[api], path="/api/v1/" + record.resource, method=record.method.lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)), header=headers,
                cookie=ImmutableMultiDict(), path={},
            ),
            body=raw or None, content_type=headers.get("Content-Type", "application/json"),
        )
        try:
            answer = self._dispatch(record, spec_request)
        except _Problem as problem:
            body = _fout(problem.status, problem.code, problem.detail)
            if problem.invalid is not None:
                body["invalidParams"] = problem.invalid
            answer = _Answer(problem.status, body)
        self._check_response(spec_request, answer, api)
        return answer

    def _dispatch(self, record: RecordedRequest, spec_request: _SpecRequest) -> _Answer:
        api = RESOURCES[record.resource]
        try:
            self.specs[api].requests.validate_request(spec_request)
        except Exception as exc:  # noqa: BLE001 - every validation failure is a 400 or 403
            if isinstance(exc, SecurityValidationError):
                raise _Problem(403, "not_authenticated", "Authenticatiegegevens zijn niet opgegeven.") from exc
            raise _Problem(400, "invalid", "De aanvraag voldoet niet aan de specificatie.", _invalid_params(exc)) from exc
        record.claims = self._check_token(record.headers.get("Authorization", ""))
        store = self._stores()[record.resource]
        if record.method == "GET":
            found = [item for item in store.values() if all(item.get(k) == v for k, v in record.query.items() if k != "page")]
            results = [self._show(record.resource, item) for item in found]
            if record.resource == "zaakinformatieobjecten":
                return _Answer(200, results)
            return _Answer(200, {"count": len(results), "next": None, "previous": None, "results": results}, self._crs(api))
        if record.method != "POST":
            raise _Problem(405, "method_not_allowed", "Deze test-server kent alleen GET en POST.")
        item = getattr(self, "_create_" + record.resource)(dict(record.body))
        item.setdefault("uuid", str(uuid.uuid4()))
        item["url"] = "%s/%s/%s" % (self.zaken_url if api == "zaken" else self.documenten_url, record.resource, item["uuid"])
        store[item["url"]] = item
        if record.resource in self.crash_after:
            self.crash_after.discard(record.resource)
            return _Answer(500, _fout(500, "error", "Er is een serverfout opgetreden (test)."), fault=True)
        shown = self._show(record.resource, item)
        if record.resource == "enkelvoudiginformatieobjecten":
            shown["lock"] = ""  # created with base64 content, so without a lock
        return _Answer(201, shown, {"Location": item["url"], **self._crs(api)})

    def _check_token(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self.secret, algorithms=["HS256"], options={"require": list(REQUIRED_CLAIMS)}
            )
        except jwt.PyJWTError as exc:
            raise _Problem(403, "permission_denied", "Ongeldig token: %s" % exc) from exc
        if scheme != "Bearer" or claims["client_id"] != self.client_id or claims["iss"] != self.client_id:
            raise _Problem(403, "permission_denied", "Onbekende client_id of iss.")
        return claims

    def _check_response(self, spec_request: _SpecRequest, answer: _Answer, api: str) -> None:
        if not answer.validate:
            return
        headers = Headers({"API-version": API_VERSIONS[api], **answer.headers})
        content_type = "application/json" if answer.status < 400 else "application/problem+json"
        headers["Content-Type"] = content_type
        answer.headers = dict(headers.items())
        response = _SpecResponse(answer.status, headers, content_type, json.dumps(answer.body).encode())
        try:
            self.specs[api].responses.validate_response(spec_request, response)
        except Exception as exc:  # noqa: BLE001 - every violation is recorded for the test to fail on
            self.spec_violations.append("%s %s -> %d: %s" % (spec_request.method.upper(), spec_request.path, answer.status, _describe(exc)))

    def _crs(self, api: str) -> dict[str, str]:
        return {"Content-Crs": "EPSG:4326"} if api == "zaken" else {}

    def _stores(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {"zaken": self.zaken, "enkelvoudiginformatieobjecten": self.documents, "zaakinformatieobjecten": self.links,
                "rollen": self.rollen, "statussen": self.statussen}

    # -- resources ------------------------------------------------------------

    def _create_zaken(self, body: dict[str, Any]) -> dict[str, Any]:
        self._require_catalogue(body, "zaaktype", "zaaktypen")
        for name in ("bronorganisatie", "verantwoordelijkeOrganisatie"):
            if not _elfproef(body[name]):
                raise _invalid(name, "invalid", "Onjuist RSIN formaat, 11-proef faalt.")
        body.setdefault("identificatie", "ZAAK-%d" % (len(self.zaken) + 1))
        if any(z["identificatie"] == body["identificatie"] and z["bronorganisatie"] == body["bronorganisatie"] for z in self.zaken.values()):
            raise _invalid("identificatie", "identificatie-niet-uniek", "Deze identificatie bestaat al binnen de bronorganisatie.")
        body.setdefault("registratiedatum", date.today().isoformat())
        body.setdefault("vertrouwelijkheidaanduiding", "openbaar")
        return body

    def _create_enkelvoudiginformatieobjecten(self, body: dict[str, Any]) -> dict[str, Any]:
        self._require_catalogue(body, "informatieobjecttype", "informatieobjecttypen")
        body.setdefault("identificatie", "DOCUMENT-%d" % (len(self.documents) + 1))
        if any(d["identificatie"] == body["identificatie"] and d["bronorganisatie"] == body["bronorganisatie"] for d in self.documents.values()):
            raise _invalid("identificatie", "identificatie-niet-uniek", "Deze identificatie bestaat al binnen de bronorganisatie.")
        try:
            content = base64.b64decode(body.pop("inhoud", None) or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid("inhoud", "invalid", "Geen geldige base64.") from exc
        body["uuid"] = str(uuid.uuid4())
        self.contents["%s/enkelvoudiginformatieobjecten/%s" % (self.documenten_url, body["uuid"])] = content
        body.update(versie=1, beginRegistratie=_now(), locked=False, bestandsdelen=[], bestandsomvang=len(content))
        return body

    def _create_zaakinformatieobjecten(self, body: dict[str, Any]) -> dict[str, Any]:
        self._require_zaak(body)
        if body["informatieobject"] not in self.documents:
            raise _invalid("informatieobject", "bad-url", "Het informatieobject bestaat niet.")
        if any(z["zaak"] == body["zaak"] and z["informatieobject"] == body["informatieobject"] for z in self.links.values()):
            raise _invalid("nonFieldErrors", "unique", "De velden zaak, informatieobject moeten een unieke set zijn.")
        body.update(aardRelatieWeergave="Hoort bij, omgekeerd: kent", registratiedatum=_now())
        return body

    def _create_rollen(self, body: dict[str, Any]) -> dict[str, Any]:
        self._require_zaak(body)
        self._require_catalogue(body, "roltype", "roltypen")
        body.update(omschrijving="Indiener", omschrijvingGeneriek="initiator", registratiedatum=_now(), statussen=[])
        return body

    def _create_statussen(self, body: dict[str, Any]) -> dict[str, Any]:
        self._require_zaak(body)
        self._require_catalogue(body, "statustype", "statustypen")
        for status in self.statussen.values():
            if status["zaak"] == body["zaak"]:
                status["indicatieLaatstGezetteStatus"] = False
        body.update(indicatieLaatstGezetteStatus=True, zaakinformatieobjecten=[])
        return body

    def _require_zaak(self, body: dict[str, Any]) -> None:
        if body["zaak"] not in self.zaken:
            raise _invalid("zaak", "bad-url", "De zaak bestaat niet.")

    def _require_catalogue(self, body: dict[str, Any], name: str, kind: str) -> None:
        if body.get(name) != self.catalogue(kind):
            raise _invalid(name, "bad-url", "De URL verwijst niet naar een bekend %s." % kind)

    def _show(self, resource: str, item: dict[str, Any]) -> dict[str, Any]:
        """The representation of a stored resource, with the fields the server derives."""
        shown = dict(item)
        if resource == "zaken":
            statussen = [s for s in self.statussen.values() if s["zaak"] == item["url"]]
            shown.update(
                rollen=[r["url"] for r in self.rollen.values() if r["zaak"] == item["url"]],
                zaakinformatieobjecten=[z["url"] for z in self.links.values() if z["zaak"] == item["url"]],
                status=next((s["url"] for s in statussen if s["indicatieLaatstGezetteStatus"]), None),
                deelzaken=[], eigenschappen=[], zaakobjecten=[], einddatum=None, resultaat=None,
                betalingsindicatieWeergave="", archiefstatus="nog_te_archiveren",
            )
        elif resource == "enkelvoudiginformatieobjecten":
            shown["inhoud"] = "%s/download?versie=1" % item["url"]
        return shown


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hung up (time-out tests); loud about anything else."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the :class:`ZgwServer` and writes its answer."""

    protocol_version = "HTTP/1.1"
    zgw: ZgwServer

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.zgw.answer(self.command, self.path, Headers(list(self.headers.items())), raw)
        if answer is None:
            self.close_connection = True
            return
        data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        headers = {"Content-Type": "application/problem+json" if answer.status >= 400 else "application/json", **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: the recorded requests are the log."""


def _fout(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "code": code, "title": detail, "status": status, "detail": detail, "instance": "urn:uuid:%s" % uuid.uuid4()}


def _invalid_params(exc: BaseException) -> list[dict[str, str]]:
    """``invalidParams`` from an openapi-core validation error and its causes."""
    params = []
    cause: BaseException | None = exc
    while cause is not None:
        for error in getattr(cause, "schema_errors", ()) or ():
            name = ".".join(str(p) for p in error.absolute_path) or "nonFieldErrors"
            if error.validator == "required":
                name = ".".join([*map(str, error.absolute_path), str(error.message).split("'")[1]])
            params.append({"name": name, "code": str(error.validator), "reason": str(error.message)[:200]})
        cause = cause.__cause__
    name = getattr(exc, "name", None) or "nonFieldErrors"
    return params or [{"name": str(name), "code": "invalid", "reason": _describe(exc)}]


def _describe(exc: BaseException) -> str:
    """The error's class and, for schema errors, only their messages (not the whole value)."""
    cause: BaseException | None = exc
    while cause is not None:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            return "%s: %s" % (type(exc).__name__, "; ".join(e.message[:300] for e in errors))
        cause = cause.__cause__
    return "%s: %s" % (type(exc).__name__, str(exc)[:500])


def _elfproef(value: str) -> bool:
    if len(value) != 9 or not value.isdigit():
        return False
    return (sum(int(d) * w for d, w in zip(value[:8], range(9, 1, -1))) - int(value[8])) % 11 == 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
