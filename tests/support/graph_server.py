"""A Microsoft Graph mail API and Entra ID token endpoint of our own, on loopback over TLS.

:class:`GraphServer` serves, on a free port of 127.0.0.1 with a self-signed
certificate (:attr:`GraphServer.ca_file`), what klachtwacht uses, as
documented by Microsoft:

* ``/{tenant}/v2.0/.well-known/openid-configuration`` and
  ``POST /{tenant}/oauth2/v2.0/token`` (client credentials): MSAL itself is
  pointed here. Tokens are HS256 JWTs signed with a key of this server,
  with ``aud`` ``https://graph.microsoft.com``, ``roles`` ``Mail.Read`` and
  ``exp``; Graph checks all of them and answers 401 ``InvalidAuthenticationToken``
  (:meth:`expire_tokens` invalidates every token issued so far) or 403.
* ``/v1.0/users/{user}/mailFolders`` and ``…/{id}/childFolders`` (paged with
  ``$top``/``$skip``), well-known names (``inbox``) for ids;
* ``…/mailFolders/{folder}/messages/delta``: a first sync of what the folder
  holds, paged by ``Prefer: odata.maxpagesize`` (default 10) with
  ``@odata.nextLink`` (``$skiptoken``), ending in an ``@odata.deltaLink``
  (``$deltatoken``); a later sync returns what was added, changed (a flag:
  :meth:`touch`) or removed (``@removed``) since. ``$select`` is honoured and
  ``$filter=receivedDateTime ge …`` on a first sync. :meth:`forget_sync_state`
  makes every token given so far answer 410 ``SyncStateNotFound``;
* ``…/mailFolders/{folder}/messages?$filter=receivedDateTime ge …&$select=id``;
* ``/v1.0/users/{user}/messages/{id}/$value``: the MIME bytes;
* :meth:`move` gives a message a new id in its new folder, as Graph does
  for its default (non-immutable) ids.

On cue it plays down: :meth:`throttle` answers the next requests 429 (or 503)
with ``Retry-After``; ``delay`` slows every ``$value``; ``hold_after`` stops
every ``$value`` after that many until ``hold`` is set. It records every
request (:attr:`requests`, methods included: anything but GET on Graph is
refused with 405 and recorded), the most requests in flight per mailbox
(:attr:`max_in_flight`), and the tokens issued. Not emulated: immutable ids,
change notifications, ``$expand``, batching, any write.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import itertools
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt

__all__ = ["GraphServer", "TENANT", "CLIENT_ID", "CLIENT_SECRET", "make_certificate", "make_client_certificate", "graph_mailbox_toml"]

TENANT = "6f1c0e3a-veenstad-tenant"
CLIENT_ID = "0b5c7a6e-klachtwacht-app"
CLIENT_SECRET = "graph-test-client-secret"
AUDIENCE = "https://graph.microsoft.com"
SCOPE = "https://graph.microsoft.com/.default"
DEFAULT_PAGE = 10
MAX_PAGE = 1000
WELL_KNOWN_TOP = ("inbox", "archive", "deleteditems", "sentitems", "drafts", "junkemail")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (EC P-256), written as PEM: (certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graph-test.local")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "graph-test-cert.pem", directory / "graph-test-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class _Message:
    id: str
    folder: str
    raw: bytes | Callable[[], bytes]
    received: dt.datetime
    internet_message_id: str | None

    def bytes(self) -> bytes:
        return self.raw if isinstance(self.raw, bytes) else self.raw()


@dataclass
class _Folder:
    id: str
    name: str
    parent: str | None
    well_known: str | None = None


@dataclass
class _Mailbox:
    folders: dict[str, _Folder] = field(default_factory=dict)
    messages: dict[str, _Message] = field(default_factory=dict)
    #: Per folder: (sequence, kind, message id), kind add | update | remove, in order.
    events: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    in_flight: int = 0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    prefer: str | None = None


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _unb64(text: str) -> dict[str, Any]:
    padded = text + "=" * (-len(text) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if not isinstance(value, dict):
        raise ValueError(text)
    return value


def _new_id() -> str:
    return "AAMkAD" + base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:6]).decode()


_GE = re.compile(r"^receivedDateTime ge (\S+)$")


class GraphServer:
    """See the module's description. Use as a context manager or call :meth:`start` and :meth:`close`."""

    def __init__(self, *, users: tuple[str, ...] = ("burgemeester@veenstad.nl",), allowed_users: tuple[str, ...] | None = None,
                 token_lifetime: int = 3600, directory: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="graph-test-") if directory is None else None
        self.directory = Path(self._tmp.name) if self._tmp else directory  # type: ignore[assignment]
        self.ca_file, self._key_file = make_certificate(self.directory)
        self.signing_key = uuid.uuid4().hex + uuid.uuid4().hex
        self.token_lifetime = token_lifetime
        self.allowed_users = allowed_users  # the application access policy: None lets the app read every mailbox
        self.lock = threading.RLock()
        self.mailboxes: dict[str, _Mailbox] = {}
        self._seq = itertools.count(1)
        self._generation = 1  # tokens of an older generation answer 410
        self._not_before = 0.0  # tokens issued before this (time.time()) are refused
        self.requests: list[Request] = []
        self.tokens_issued = 0
        #: Certificates (cryptography x509 objects) registered on the app: their keys may sign client assertions.
        self.certificates: list[Any] = []
        self.max_in_flight = 0
        self.delay = 0.0
        #: With ``hold_after`` set, every ``$value`` after that many waits until :attr:`hold` is set (a client stuck mid-page).
        self.hold_after: int | None = None
        self.hold = threading.Event()
        self.held = 0
        self._values = 0
        self._throttle: list[tuple[int, float]] = []  # (status, retry-after) for the next requests
        self._snapshots: dict[tuple[str, str, int, int, str], list[str]] = {}
        for user in users:
            self.add_user(user)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up ---------------------------------------------------------------
    def add_user(self, user: str) -> None:
        box = _Mailbox()
        root = _Folder(_new_id(), "Top of Information Store", None, "msgfolderroot")
        box.folders[root.id] = root
        names = {"inbox": "Inbox", "archive": "Archive", "deleteditems": "Deleted Items", "sentitems": "Sent Items", "drafts": "Drafts", "junkemail": "Junk Email"}
        for wk in WELL_KNOWN_TOP:
            folder = _Folder(_new_id(), names[wk], root.id, wk)
            box.folders[folder.id] = folder
        for folder_id in box.folders:
            box.events[folder_id] = []
        self.mailboxes[user.lower()] = box

    def add_folder(self, user: str, name: str, parent: str = "msgfolderroot") -> str:
        with self.lock:
            box = self.mailboxes[user.lower()]
            folder = _Folder(_new_id(), name, self._folder_id(box, parent))
            box.folders[folder.id] = folder
            box.events[folder.id] = []
            return folder.id

    def add(self, user: str, folder: str, raw: bytes | Callable[[], bytes], *, received: dt.datetime | None = None,
            internet_message_id: str | None = None) -> str:
        """Deliver a message to ``folder`` (a well-known name or an id); return its Graph id."""
        with self.lock:
            box = self.mailboxes[user.lower()]
            folder_id = self._folder_id(box, folder)
            message = _Message(_new_id(), folder_id, raw, received or dt.datetime.now(dt.timezone.utc), internet_message_id)
            box.messages[message.id] = message
            box.events[folder_id].append((next(self._seq), "add", message.id))
            return message.id

    def move(self, user: str, message_id: str, folder: str) -> str:
        """Move a message; Graph gives it a new id in the new folder. Return the new id."""
        with self.lock:
            box = self.mailboxes[user.lower()]
            old = box.messages.pop(message_id)
            target = self._folder_id(box, folder)
            moved = _Message(_new_id(), target, old.raw, old.received, old.internet_message_id)
            box.messages[moved.id] = moved
            box.events[old.folder].append((next(self._seq), "remove", old.id))
            box.events[target].append((next(self._seq), "add", moved.id))
            return moved.id

    def delete(self, user: str, message_id: str) -> None:
        with self.lock:
            box = self.mailboxes[user.lower()]
            old = box.messages.pop(message_id)
            box.events[old.folder].append((next(self._seq), "remove", old.id))

    def touch(self, user: str, message_id: str) -> None:
        """A change of a property (the owner read it): the message shows up in the next delta again, same id."""
        with self.lock:
            box = self.mailboxes[user.lower()]
            box.events[box.messages[message_id].folder].append((next(self._seq), "update", message_id))

    def ids(self, user: str, folder: str) -> list[str]:
        with self.lock:
            box = self.mailboxes[user.lower()]
            folder_id = self._folder_id(box, folder)
            return [m.id for m in box.messages.values() if m.folder == folder_id]

    # -- faults ---------------------------------------------------------------
    def forget_sync_state(self) -> None:
        """Every delta and skip token given so far answers 410 from now on."""
        with self.lock:
            self._generation += 1
            self._snapshots.clear()

    def throttle(self, count: int, retry_after: float = 1.0, status: int = 429) -> None:
        """The next ``count`` Graph requests answer ``status`` with ``Retry-After: retry_after``."""
        with self.lock:
            self._throttle.extend([(status, retry_after)] * count)

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401), as an expired one is."""
        with self.lock:
            self._not_before = time.time() + 0.001
        time.sleep(0.002)

    # -- running ----------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def endpoint(self) -> str:
        return f"{self.url}/v1.0"

    def start(self) -> GraphServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, self._key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="graph-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> GraphServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def graph_requests(self, kind: str = "") -> list[Request]:
        """Recorded requests to Graph (not to the token endpoint) whose path contains ``kind``."""
        return [r for r in self.requests if r.path.startswith("/v1.0/") and kind in r.path]

    # -- tokens -------------------------------------------------------------------
    def issue_token(self, client_id: str, roles: tuple[str, ...] = ("Mail.Read",)) -> str:
        now = time.time()
        claims = {"aud": AUDIENCE, "iss": f"https://sts.windows.net/{TENANT}/", "tid": TENANT, "appid": client_id, "roles": list(roles),
                  "iat": int(now), "nbf": int(now) - 1, "exp": int(now) + self.token_lifetime, "uti": uuid.uuid4().hex, "issued": now}
        with self.lock:
            self.tokens_issued += 1
        return jwt.encode(claims, self.signing_key, algorithm="HS256")

    def check_assertion(self, form: dict[str, str], audience: str) -> bool:
        """A client assertion (RFC 7523) signed by one of :attr:`certificates`, for this token endpoint, by the app itself."""
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return False
        for certificate in self.certificates:
            try:
                claims = jwt.decode(form["client_assertion"], certificate.public_key(), algorithms=["PS256", "RS256"], audience=audience,
                                    options={"require": ["exp", "aud", "iss", "sub"]})
            except jwt.PyJWTError:
                continue
            if claims.get("iss") == claims.get("sub") == CLIENT_ID:
                return True
        return False

    def check_token(self, header: str | None, user: str) -> tuple[int, str] | None:
        """None when the bearer token may read ``user``'s mail; else (status, error code)."""
        if not header or not header.startswith("Bearer "):
            return 401, "InvalidAuthenticationToken"
        try:
            claims = jwt.decode(header[7:], self.signing_key, algorithms=["HS256"], audience=AUDIENCE, options={"require": ["exp", "aud", "iat"]})
        except jwt.PyJWTError:
            return 401, "InvalidAuthenticationToken"
        if float(claims.get("issued", 0)) < self._not_before or claims.get("tid") != TENANT:
            return 401, "InvalidAuthenticationToken"
        if "Mail.Read" not in claims.get("roles", []):
            return 403, "ErrorAccessDenied"
        if self.allowed_users is not None and user.lower() not in {u.lower() for u in self.allowed_users}:
            return 403, "ErrorAccessDenied"
        return None

    # -- the data behind the endpoints ---------------------------------------------
    def _folder_id(self, box: _Mailbox, name: str) -> str:
        if name in box.folders:
            return name
        for folder in box.folders.values():
            if folder.well_known == name.lower():
                return folder.id
        raise KeyError(name)

    def _matches(self, message: _Message, flt: str) -> bool:
        if not flt:
            return True
        match = _GE.match(flt)
        if match is None:
            raise ValueError(flt)
        since = dt.datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
        return message.received >= since

    def members(self, user: str, folder_id: str, upto: int, flt: str) -> list[str]:
        """The ids in ``folder_id`` after event ``upto``, in delivery order (remembered per snapshot, so pages are cheap)."""
        key = (user, folder_id, upto, self._generation, flt)
        with self.lock:
            if key not in self._snapshots:
                box = self.mailboxes[user]
                present: dict[str, None] = {}
                for seq, kind, mid in box.events[folder_id]:
                    if seq > upto:
                        break
                    if kind == "add":
                        present[mid] = None
                    elif kind == "remove":
                        present.pop(mid, None)
                ids = [m for m in present if m not in box.messages or self._matches(box.messages[m], flt)]
                if len(self._snapshots) > 64:
                    self._snapshots.clear()
                self._snapshots[key] = ids
            return self._snapshots[key]

    def changes(self, user: str, folder_id: str, after: int, upto: int) -> list[tuple[str, bool]]:
        """(id, removed) for what changed in ``folder_id`` between two events, one entry per id."""
        key = (user, folder_id, after, upto, "changes")
        with self.lock:
            if key not in self._snapshots:
                last: dict[str, str] = {}
                for seq, kind, mid in self.mailboxes[user].events[folder_id]:
                    if after < seq <= upto:
                        last.pop(mid, None)
                        last[mid] = kind
                self._snapshots[key] = [f"{'-' if kind == 'remove' else '+'}{mid}" for mid, kind in last.items()]
            return [(entry[1:], entry[0] == "-") for entry in self._snapshots[key]]

    def current_seq(self) -> int:
        with self.lock:
            value = next(self._seq)
            return value


def _handler(server: GraphServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall between them

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        # -- answers -------------------------------------------------------
        def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
            # recorded before the answer goes out: a client that has its answer finds the request in the log
            with server.lock:
                server.requests.append(Request(self.command, self.path, status, self.headers.get("Prefer")))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(value).encode(), headers=headers)

        def _error(self, status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> None:
            self._json(status, {"error": {"code": code, "message": message or code}}, headers)

        # -- Entra ID ----------------------------------------------------------
        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if parts.path != f"/{TENANT}/oauth2/v2.0/token":
                self._error(405, "MethodNotAllowed", "only GET on Graph")
                return
            if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
                self._json(400, {"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found in the directory."})
                return
            if "client_assertion" in form:
                if not server.check_assertion(form, f"{server.url}/{TENANT}/oauth2/v2.0/token"):
                    self._json(401, {"error": "invalid_client", "error_description": "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application."})
                    return
            elif form.get("client_secret") != CLIENT_SECRET:
                self._json(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
                return
            if form.get("scope") != SCOPE:
                self._json(400, {"error": "invalid_scope", "error_description": "AADSTS1002012: The provided value for scope is not valid."})
                return
            token = server.issue_token(CLIENT_ID)
            self._json(200, {"token_type": "Bearer", "expires_in": server.token_lifetime, "ext_expires_in": server.token_lifetime, "access_token": token})

        def do_PATCH(self) -> None:  # noqa: N802
            self._error(405, "MethodNotAllowed", "this server is read-only")

        do_PUT = do_DELETE = do_PATCH  # noqa: N815

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
                base = f"{server.url}/{TENANT}"
                self._json(200, {"token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                 "issuer": f"{base}/v2.0", "token_endpoint_auth_methods_supported": ["client_secret_post"]})
                return
            segments = [unquote(s) for s in parts.path.split("/")[1:]]
            if segments[:2] != ["v1.0", "users"] or len(segments) < 4:
                self._error(400, "BadRequest", "unsupported path")
                return
            user = segments[2].lower()
            refused = server.check_token(self.headers.get("Authorization"), user)
            if refused is not None:
                self._error(refused[0], refused[1])
                return
            with server.lock:
                if server._throttle:
                    status, retry_after = server._throttle.pop(0)
                    self._error(status, "ApplicationThrottled" if status == 429 else "ServiceUnavailable",
                                "Application is over its MailboxConcurrency limit.", {"Retry-After": str(int(retry_after))})
                    return
                if user not in server.mailboxes:
                    self._error(404, "ErrorInvalidUser", "The requested user is invalid.")
                    return
                box = server.mailboxes[user]
                box.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, box.in_flight)
            try:
                self._graph(user, box, segments[3:], query)
            finally:
                with server.lock:
                    box.in_flight -= 1

        def _graph(self, user: str, box: _Mailbox, rest: list[str], query: dict[str, str]) -> None:
            try:
                if rest[0] == "messages" and len(rest) == 3 and rest[2] == "$value":
                    self._value(box, rest[1])
                elif rest[0] == "mailFolders" and len(rest) == 2:
                    folder = box.folders[server._folder_id(box, rest[1])]
                    count = sum(1 for m in box.messages.values() if m.folder == folder.id)
                    self._json(200, {"id": folder.id, "displayName": folder.name, "totalItemCount": count})
                elif rest[0] == "mailFolders" and len(rest) == 1:
                    self._folders(user, box, "msgfolderroot", query)
                elif rest[0] == "mailFolders" and len(rest) == 3 and rest[2] == "childFolders":
                    self._folders(user, box, rest[1], query)
                elif rest[0] == "mailFolders" and len(rest) == 4 and rest[2:] == ["messages", "delta"]:
                    self._delta(user, box, rest[1], query)
                elif rest[0] == "mailFolders" and len(rest) == 3 and rest[2] == "messages":
                    self._list(user, box, rest[1], query)
                else:
                    self._error(400, "BadRequest", "unsupported path")
            except KeyError:
                self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")

        def _value(self, box: _Mailbox, message_id: str) -> None:
            if server.delay:
                time.sleep(server.delay)
            with server.lock:
                server._values += 1
                wait = server.hold_after is not None and server._values > server.hold_after
                server.held += wait
            if wait:
                server.hold.wait(60)
            with server.lock:
                message = box.messages.get(message_id)
            if message is None:
                self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
                return
            self._send(200, message.bytes(), "text/plain")

        def _page_size(self) -> int:
            prefer = self.headers.get("Prefer", "")
            match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
            return min(MAX_PAGE, int(match.group(1))) if match else DEFAULT_PAGE

        def _folders(self, user: str, box: _Mailbox, parent: str, query: dict[str, str]) -> None:
            parent_id = server._folder_id(box, parent)
            children = [f for f in box.folders.values() if f.parent == parent_id]
            top, skip = int(query.get("$top", "10")), int(query.get("$skip", "0"))
            page = children[skip : skip + top]
            body: dict[str, Any] = {"value": [{"id": f.id, "displayName": f.name, "parentFolderId": f.parent} for f in page]}
            if skip + top < len(children):
                listing = "mailFolders" if parent == "msgfolderroot" else f"mailFolders/{parent}/childFolders"
                body["@odata.nextLink"] = f"{server.endpoint}/users/{user}/{listing}?" + urlencode({"$top": top, "$skip": skip + top})
            self._json(200, body)

        def _entry(self, box: _Mailbox, message_id: str, select: list[str]) -> dict[str, Any]:
            message = box.messages[message_id]
            full = {"id": message.id, "internetMessageId": message.internet_message_id, "parentFolderId": message.folder,
                    "receivedDateTime": message.received.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "isRead": False,
                    "subject": "(not selected)"}
            return {k: v for k, v in full.items() if k == "id" or not select or k in select}

        def _delta(self, user: str, box: _Mailbox, folder: str, query: dict[str, str]) -> None:
            folder_id = server._folder_id(box, folder)
            size = self._page_size()
            base = f"{server.endpoint}/users/{user}/mailFolders/{folder}/messages/delta"
            if "$skiptoken" in query or "$deltatoken" in query:
                try:
                    state = _unb64(query.get("$skiptoken") or query["$deltatoken"])
                except ValueError:
                    self._error(400, "BadRequest", "malformed token")
                    return
                if state.get("gen") != server._generation or state.get("folder") != folder_id:
                    self._error(410, "SyncStateNotFound", "The sync state generation is not found.")
                    return
                select = state["select"]
                if "$deltatoken" in query:  # a new round: what changed since the token
                    state = {**state, "from": state["to"], "to": server.current_seq(), "offset": 0}
            else:
                select = [s for s in query.get("$select", "").split(",") if s]
                state = {"folder": folder_id, "gen": server._generation, "from": 0, "to": server.current_seq(), "offset": 0,
                         "filter": query.get("$filter", ""), "select": select}
            with server.lock:
                if state["from"] == 0:
                    entries = [(mid, False) for mid in server.members(user, folder_id, state["to"], state["filter"])]
                else:
                    entries = server.changes(user, folder_id, state["from"], state["to"])
                offset = state["offset"]
                page = entries[offset : offset + size]
                values = []
                for mid, removed in page:
                    if removed or mid not in box.messages or box.messages[mid].folder != folder_id:
                        values.append({"@odata.type": "#microsoft.graph.message", "id": mid, "@removed": {"reason": "deleted"}})
                    else:
                        values.append({"@odata.type": "#microsoft.graph.message", **self._entry(box, mid, select)})
            body: dict[str, Any] = {"@odata.context": f"{server.endpoint}/$metadata#Collection(message)", "value": values}
            if offset + size < len(entries):
                body["@odata.nextLink"] = f"{base}?$skiptoken={_b64({**state, 'offset': offset + size})}"
            else:
                body["@odata.deltaLink"] = f"{base}?$deltatoken={_b64({**state, 'offset': 0})}"
            self._json(200, body)

        def _list(self, user: str, box: _Mailbox, folder: str, query: dict[str, str]) -> None:
            folder_id = server._folder_id(box, folder)
            top, skip = min(MAX_PAGE, int(query.get("$top", "10"))), int(query.get("$skip", "0"))
            select = [s for s in query.get("$select", "").split(",") if s]
            flt = query.get("$filter", "")
            with server.lock:
                ids = [m.id for m in box.messages.values() if m.folder == folder_id and server._matches(m, flt)]
                values = [self._entry(box, mid, select) for mid in ids[skip : skip + top]]
            body: dict[str, Any] = {"value": values}
            if skip + top < len(ids):
                params = {k: v for k, v in query.items() if k != "$skip"}
                body["@odata.nextLink"] = f"{server.endpoint}/users/{user}/mailFolders/{folder}/messages?" + urlencode({**params, "$skip": skip + top})
            self._json(200, body)

    return Handler


def graph_mailbox_toml(server: GraphServer, name: str, user: str, *, folders: tuple[str, ...] = ("inbox",), role: str = "burgemeester",
                       poll_interval: float | None = None, secret_env: str = "KW_TEST_GRAPH_SECRET") -> str:
    """A ``[[mailboxes]]`` table read over Graph from ``server`` (the secret from ``secret_env``, set it to :data:`CLIENT_SECRET`)."""
    lines = [
        "[[mailboxes]]", f'name = "{name}"', f'role = "{role}"', f'address = "{user}"',
        "folders = [" + ", ".join(f'"{f}"' for f in folders) + "]",
    ]
    if poll_interval is not None:
        lines.append(f"poll_interval = {poll_interval}")
    lines += [
        "[mailboxes.graph]", f'tenant_id = "{TENANT}"', f'client_id = "{CLIENT_ID}"', f'client_secret_env = "{secret_env}"', f'user = "{user}"',
        f'authority = "{server.url}"', f'endpoint = "{server.endpoint}"', f'ca_file = "{server.ca_file}"', "timeout = 10",
    ]
    return "\n".join(lines) + "\n"


def make_client_certificate(directory: Path, name: str = "klachtwacht-app") -> tuple[Path, Any]:
    """An RSA key and self-signed certificate for the app's credential: (one PEM file with both, the certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
    path = directory / f"{name}.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                     + cert.public_bytes(serialization.Encoding.PEM))
    return path, cert
