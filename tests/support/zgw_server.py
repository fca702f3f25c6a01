"""A ZGW Zaken and Documenten API in memory that holds every exchange to the published specifications.

:class:`ZgwServer` serves, on a free loopback port, ``/zaken/api/v1/`` (zaken,
zaakinformatieobjecten, rollen, statussen) and ``/documenten/api/v1/``
(enkelvoudiginformatieobjecten): list with filters and create, and one zaak by its URL. It validates
every request with openapi-core against the vendored files in
``tests/support/specs`` (path, query, required headers such as ``Accept-Crs``,
security, body schema, the schema a ``discriminator`` selects, and no
property the schema does not define: a typo the real API would drop) and
answers 400 otherwise; it checks the HS256 JWT and its claims and answers 403
otherwise; it validates its own responses into :attr:`ZgwServer.spec_violations`
(tests assert it empty); it records every request. On cue it plays down:
:meth:`~ZgwServer.fail_with`, ``drop_connections``, ``delay``, ``crash_after``
(store, then answer 500); :meth:`~ZgwServer.delete_zaak` removes a zaak, so that
``GET zaken/{uuid}`` answers 404. Catalogue URLs are fake ones on the same server.
Not emulated: the informatieobjecttype belonging to the zaaktype, scopes.
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
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.validation.request.exceptions import SecurityValidationError
from openapi_core.validation.schemas import oas30_write_schema_validators_factory
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["ZgwServer", "RecordedRequest", "SpecsMissing", "load_spec", "SPECS", "TEST_SECRET", "TEST_CLIENT_ID"]

SPECS = Path(__file__).resolve().with_name("specs")
SPEC_FILES = {
    "zaken": "standaard/zaken/zrc/1.7.x/1.7.0/openapi.yaml",
    "documenten": "standaard/documenten/drc/1.7.x/1.7.1/openapi.yaml",
}
#: The server each specification declares; requests are validated as if sent there.
SPEC_SERVERS = {"zaken": "https://zaken-api.vng.cloud", "documenten": "https://documenten-api.vng.cloud"}
API_VERSIONS = {"zaken": "1.7.0", "documenten": "1.7.1"}
RESOURCES = {"zaken": "zaken", "zaakinformatieobjecten": "zaken", "rollen": "zaken", "statussen": "zaken",
             "enkelvoudiginformatieobjecten": "documenten"}
#: The catalogue reference each resource carries, and the kind of catalogue object it names.
CATALOGUE_FIELDS = {"zaken": ("zaaktype", "zaaktypen"), "enkelvoudiginformatieobjecten": ("informatieobjecttype", "informatieobjecttypen"),
                    "rollen": ("roltype", "roltypen"), "statussen": ("statustype", "statustypen")}
TEST_SECRET = "zgw-test-secret-for-hs256-tokens"
TEST_CLIENT_ID = "klachtwacht-test"
REQUIRED_CLAIMS = ("iss", "iat", "exp", "client_id", "user_id", "user_representation")


class SpecsMissing(RuntimeError):
    """Raised when the ZGW OpenAPI specifications are not where the contract tests expect them."""


def _is_uri(value: object) -> bool:
    # jsonschema checks "uri" only when rfc3987 is installed; this check is always on.
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme and (parts.netloc or parts.scheme == "urn"))


#: Error answers are application/problem+json, which openapi-core does not parse by itself. The published
#: files are not checked as OpenAPI documents on every run (a second per file); a broken reference still fails.
_CONFIG = Config(
    extra_media_type_deserializers={"application/problem+json": json_loads},
    extra_format_validators={"uri": _is_uri},
    spec_validator_cls=None,
)


@lru_cache(maxsize=None)
def load_spec(api: str) -> OpenAPI:
    """The specification of ``api`` ("zaken" or "documenten"), parsed once per process."""
    path = SPECS / SPEC_FILES[api]
    if not path.is_file():
        raise SpecsMissing(
            "the ZGW OpenAPI specification %s is missing: the contract tests need the folder "
            "tests/support/specs (expected %s)" % (SPEC_FILES[api], path)
        )
    return OpenAPI.from_file_path(str(path), config=_CONFIG)


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
    item: str | None = None  # the uuid of a detail request (GET zaken/{uuid})


@dataclass
class _SpecRequest:
    """A request in the shape openapi-core validates (its ``Request`` protocol)."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class _SpecResponse:
    """A response in the shape openapi-core validates (its ``Response`` protocol)."""

    status_code: int
    headers: Headers
    content_type: str
    data: bytes


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    fault: bool = False  # played on cue: not a refusal of the client's request
    validate: bool = True  # faults such as a 503 are outside the specification


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
        self._http: _HttpServer | None = None
        self.reset()

    def start(self) -> ZgwServer:
        self._http = _HttpServer(("127.0.0.1", 0), type("_BoundHandler", (_Handler,), {"zgw": self}))
        threading.Thread(target=self._http.serve_forever, args=(0.05,), name="zgw-server", daemon=True).start()
        self.base_url = "http://127.0.0.1:%d" % self._http.server_address[1]
        self.zaken_url, self.documenten_url = self.base_url + "/zaken/api/v1", self.base_url + "/documenten/api/v1"
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def __enter__(self) -> ZgwServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every resource, request and switch."""
        self.zaken: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}  # document URL -> the decoded inhoud
        self.links: dict[str, dict[str, Any]] = {}
        self.rollen: dict[str, dict[str, Any]] = {}
        self.statussen: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.rejected: list[str] = []
        self.spec_violations: list[str] = []
        self.down: tuple[int, int | None] | None = None
        self.drop_connections = False
        self.delay = 0.0
        self.crash_after: set[str] = set()  # resource names; each crashes once

    def fail_with(self, status: int = 503, retry_after: int | None = None) -> None:
        """Answer every request with ``status`` (and Retry-After) until :meth:`recover`."""
        self.down = (status, retry_after)

    def recover(self) -> None:
        self.down, self.drop_connections, self.delay = None, False, 0.0

    def delete_zaak(self, url: str) -> None:
        """Remove a zaak as a user of the zaaksysteem would (its rollen, statussen and links go with it)."""
        with self._lock:
            del self.zaken[url]
            for store in (self.links, self.rollen, self.statussen):
                for key in [k for k, v in store.items() if v.get("zaak") == url]:
                    del store[key]

    def catalogue(self, kind: str) -> str:
        """The fake catalogue URL of ``kind``: zaaktypen, informatieobjecttypen, roltypen or statustypen."""
        return "%s/catalogi/api/v1/%s/%s" % (self.base_url, kind, uuid.uuid5(uuid.NAMESPACE_URL, kind))

    def register_options(self, secret_env: str = "KW_ZGW_SECRET", **extra: Any) -> dict[str, Any]:
        """A ``[register]`` table for the zgw backend that points at this server."""
        return {
            "zaken_url": self.zaken_url, "documenten_url": self.documenten_url,
            "client_id": self.client_id, "secret_env": secret_env,
            "zaaktype": self.catalogue("zaaktypen"), "informatieobjecttype": self.catalogue("informatieobjecttypen"),
            "roltype": self.catalogue("roltypen"), "bronorganisatie": "002220647",
            "verantwoordelijke_organisatie": "517439943", "timeout": 5, **extra,
        }

    def posts(self, resource: str | None = None) -> list[RecordedRequest]:
        """The recorded POST requests, of ``resource`` when given."""
        return [r for r in self.requests if r.method == "POST" and resource in (None, r.resource)]

    # -- one exchange ---------------------------------------------------------

    def answer(self, method: str, target: str, headers: Headers, raw: bytes) -> _Answer | None:
        """Handle one request; None means: drop the connection without an answer."""
        url = urlsplit(target)
        parts = url.path.strip("/").split("/")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        with self._lock:
            record = RecordedRequest(method, url.path, parts[3] if len(parts) in (4, 5) else "",
                                     dict(parse_qsl(url.query, keep_blank_values=True)), headers, body)
            record.item = parts[4] if len(parts) == 5 else None
            self.requests.append(record)
            answer = self._answer(record, parts[0], raw, url.query)
            if answer is not None:
                record.status = answer.status
                if answer.status >= 400 and not answer.fault:
                    self.rejected.append("%s %s: %d %s" % (method, url.path, answer.status, json.dumps(answer.body)))
        time.sleep(self.delay)
        return answer

    def _answer(self, record: RecordedRequest, api: str, raw: bytes, query: str) -> _Answer | None:
        if self.drop_connections:
            return None
        if self.down is not None:
            status, retry_after = self.down
            extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return _Answer(status, _fout(status, "unavailable", "Niet beschikbaar (test)."), extra, fault=True, validate=False)
        if RESOURCES.get(record.resource) != api or record.method not in ("GET", "POST"):
            return _Answer(404, _fout(404, "not_found", "Niet gevonden."), validate=False)
        if record.item is not None and (record.resource != "zaken" or record.method != "GET"):
            return _Answer(404, _fout(404, "not_found", "Niet gevonden."), validate=False)
        detail = "" if record.item is None else "/" + record.item
        spec_request = _SpecRequest(
            host_url=SPEC_SERVERS[api], path="/api/v1/" + record.resource + detail, method=record.method.lower(),
            parameters=RequestParameters(query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
                                         header=record.headers, cookie=ImmutableMultiDict(), path={}),
            body=raw or None, content_type=record.headers.get("Content-Type", "application/octet-stream"),
        )
        try:
            answer = self._dispatch(record, api, spec_request)
        except _Problem as problem:
            body = _fout(problem.status, problem.code, problem.detail)
            if problem.invalid is not None:
                body["invalidParams"] = problem.invalid
            answer = _Answer(problem.status, body)
        if answer.validate:
            self._check_response(api, spec_request, answer)
        return answer

    def _dispatch(self, record: RecordedRequest, api: str, spec_request: _SpecRequest) -> _Answer:
        try:
            self.specs[api].validate_request(spec_request)
            if record.method == "POST":
                self._check_body(api, record.resource, record.body)
        except _Problem:
            raise
        except SecurityValidationError as exc:
            raise _Problem(403, "not_authenticated", "Authenticatiegegevens zijn niet opgegeven.") from exc
        except Exception as exc:  # noqa: BLE001 - every other validation failure is a 400
            raise _Problem(400, "invalid", "De aanvraag voldoet niet aan de specificatie.", _invalid_params(exc)) from exc
        record.claims = self._check_token(record.headers.get("Authorization", ""))
        store: dict[str, dict[str, Any]] = {
            "zaken": self.zaken, "enkelvoudiginformatieobjecten": self.documents, "zaakinformatieobjecten": self.links,
            "rollen": self.rollen, "statussen": self.statussen,
        }[record.resource]
        crs = {"Content-Crs": "EPSG:4326"} if record.resource == "zaken" else {}
        if record.item is not None:  # GET zaken/{uuid}: the one detail call klachtwacht makes (reconciliation)
            url = "%s/zaken/api/v1/zaken/%s" % (self.base_url, record.item)
            if url not in self.zaken:
                raise _Problem(404, "not_found", "Niet gevonden.")
            return _Answer(200, self._show("zaken", self.zaken[url]), crs)
        if record.method == "GET":
            filters = {k: v for k, v in record.query.items() if k not in ("page", "expand")}
            found = [self._show(record.resource, item) for item in store.values()
                     if all(item.get(k) == v for k, v in filters.items())]
            if record.resource == "zaakinformatieobjecten":  # the one list the specification does not paginate
                return _Answer(200, found)
            return _Answer(200, {"count": len(found), "next": None, "previous": None, "results": found}, crs)
        item = self._create(record.resource, dict(record.body))
        store[item["url"]] = item
        if record.resource in self.crash_after:
            self.crash_after.discard(record.resource)
            return _Answer(500, _fout(500, "error", "Er is een serverfout opgetreden (test)."), fault=True)
        shown = self._show(record.resource, item)
        if record.resource == "enkelvoudiginformatieobjecten":
            shown["lock"] = ""  # created with base64 content, so without a lock
        return _Answer(201, shown, {"Location": item["url"], **crs})

    def _check_body(self, api: str, resource: str, body: Any) -> None:
        """Validate against the schema a discriminator selects, and refuse properties no schema defines."""
        spec = self.specs[api].spec
        schema = spec / "paths" / ("/" + resource) / "post" / "requestBody" / "content" / "application/json" / "schema"
        if "discriminator" in schema and isinstance(body, dict):
            discriminator = (schema / "discriminator").read_value()
            target = discriminator.get("mapping", {}).get(body.get(discriminator["propertyName"]))
            if target:
                schema = spec / "components" / "schemas" / target.rsplit("/", 1)[1]
                oas30_write_schema_validators_factory.create(spec, schema, extra_format_validators={"uri": _is_uri}).validate(body)
        unknown = sorted(set(body) - _properties(schema)) if isinstance(body, dict) else []
        if unknown:
            raise _invalid(unknown[0], "unknown-property", "De specificatie kent dit veld niet.")

    def _check_token(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        try:
            claims: dict[str, Any] = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": list(REQUIRED_CLAIMS)})
        except jwt.PyJWTError as exc:
            raise _Problem(403, "permission_denied", "Ongeldig token: %s" % exc) from exc
        if scheme != "Bearer" or claims["client_id"] != self.client_id or claims["iss"] != self.client_id:
            raise _Problem(403, "permission_denied", "Onbekende client_id of iss.")
        return claims

    def _check_response(self, api: str, spec_request: _SpecRequest, answer: _Answer) -> None:
        content_type = "application/json" if answer.status < 400 else "application/problem+json"
        answer.headers = {"API-version": API_VERSIONS[api], "Content-Type": content_type, **answer.headers}
        response = _SpecResponse(answer.status, Headers(answer.headers), content_type, json.dumps(answer.body).encode())
        try:
            self.specs[api].validate_response(spec_request, response)
        except Exception as exc:  # noqa: BLE001 - every violation is recorded for the test to fail on
            self.spec_violations.append("%s %s -> %d: %s" % (spec_request.method.upper(), spec_request.path, answer.status, _describe(exc)))

    # -- resources ------------------------------------------------------------

    def _create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Check what the real APIs check beyond the schema, then let the resource's own method finish."""
        if "zaak" in body and body["zaak"] not in self.zaken:
            raise _invalid("zaak", "bad-url", "De zaak bestaat niet.")
        if resource in CATALOGUE_FIELDS:
            name, kind = CATALOGUE_FIELDS[resource]
            if body.get(name) != self.catalogue(kind):
                raise _invalid(name, "bad-url", "De URL verwijst niet naar een bekend object in %s." % kind)
        if resource in ("zaken", "enkelvoudiginformatieobjecten"):
            store = self.zaken if resource == "zaken" else self.documents
            body.setdefault("identificatie", "%s-%d" % (resource[:5].upper(), len(store) + 1))
            if any((i["identificatie"], i["bronorganisatie"]) == (body["identificatie"], body["bronorganisatie"]) for i in store.values()):
                raise _invalid("identificatie", "identificatie-niet-uniek", "Deze identificatie bestaat al binnen de bronorganisatie.")
        body["uuid"] = str(uuid.uuid4())
        body["url"] = "%s/%s/api/v1/%s/%s" % (self.base_url, RESOURCES[resource], resource, body["uuid"])
        getattr(self, "_create_" + resource)(body)
        return body

    def _create_zaken(self, body: dict[str, Any]) -> None:
        for name in ("bronorganisatie", "verantwoordelijkeOrganisatie"):
            if not _elfproef(body[name]):
                raise _invalid(name, "invalid", "Onjuist RSIN formaat, 11-proef faalt.")
        body.setdefault("registratiedatum", date.today().isoformat())
        body.setdefault("vertrouwelijkheidaanduiding", "openbaar")

    def _create_enkelvoudiginformatieobjecten(self, body: dict[str, Any]) -> None:
        try:
            self.contents[body["url"]] = content = base64.b64decode(body.pop("inhoud", None) or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid("inhoud", "invalid", "Geen geldige base64.") from exc
        body.update(versie=1, beginRegistratie=_now(), locked=False, bestandsdelen=[], bestandsomvang=len(content))

    def _create_zaakinformatieobjecten(self, body: dict[str, Any]) -> None:
        if body["informatieobject"] not in self.documents:
            raise _invalid("informatieobject", "bad-url", "Het informatieobject bestaat niet.")
        if any((z["zaak"], z["informatieobject"]) == (body["zaak"], body["informatieobject"]) for z in self.links.values()):
            raise _invalid("nonFieldErrors", "unique", "De velden zaak, informatieobject moeten een unieke set zijn.")
        body.update(aardRelatieWeergave="Hoort bij, omgekeerd: kent", registratiedatum=_now())

    def _create_rollen(self, body: dict[str, Any]) -> None:
        body.update(omschrijving="Indiener", omschrijvingGeneriek="initiator", registratiedatum=_now(), statussen=[])

    def _create_statussen(self, body: dict[str, Any]) -> None:
        for status in self.statussen.values():
            if status["zaak"] == body["zaak"]:
                status["indicatieLaatstGezetteStatus"] = False
        body.update(indicatieLaatstGezetteStatus=True, zaakinformatieobjecten=[])

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
        """Quiet about clients that hung up (the time-out tests); loud about anything else."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the :class:`ZgwServer` and writes its answer."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    zgw: ZgwServer

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.zgw.answer(self.command, self.path, Headers(list(self.headers.items())), raw)
        if answer is None:
            self.close_connection = True
            return
        data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        content_type = "application/problem+json" if answer.status >= 400 else "application/json"
        for name, value in {"Content-Type": content_type, **answer.headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: the recorded requests are the log."""


def _properties(schema: SchemaPath) -> set[str]:
    """The property names a schema defines, through allOf."""
    names = {str(name) for name in (schema / "properties").keys()} if "properties" in schema else set()
    for part in (schema / "allOf") if "allOf" in schema else ():
        names |= _properties(part)
    return names


def _fout(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "code": code, "title": detail, "status": status, "detail": detail,
            "instance": "urn:uuid:%s" % uuid.uuid4()}


def _invalid_params(exc: BaseException) -> list[dict[str, str]]:
    """``invalidParams`` from an openapi-core validation error and its causes."""
    params = []
    cause: BaseException | None = exc
    while cause is not None:
        for error in getattr(cause, "schema_errors", None) or ():
            path = [str(p) for p in error.absolute_path]
            if error.validator == "required":
                path.append(str(error.message).split("'")[1])
            params.append({"name": ".".join(path) or "nonFieldErrors", "code": str(error.validator), "reason": error.message[:200]})
        cause = cause.__cause__
    return params or [{"name": str(getattr(exc, "name", None) or "nonFieldErrors"), "code": "invalid", "reason": _describe(exc)}]


def _describe(exc: BaseException) -> str:
    """The error's class and, for schema errors, only their messages (not the whole value)."""
    cause: BaseException | None = exc
    while cause is not None:
        if getattr(cause, "schema_errors", None):
            return "%s: %s" % (type(exc).__name__, "; ".join(e.message[:300] for e in cause.schema_errors))  # type: ignore[attr-defined]
        cause = cause.__cause__
    return "%s: %s" % (type(exc).__name__, str(exc)[:500])


def _elfproef(value: str) -> bool:
    if len(value) != 9 or not value.isdigit():
        return False
    return (sum(int(d) * w for d, w in zip(value[:8], range(9, 1, -1))) - int(value[8])) % 11 == 0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
