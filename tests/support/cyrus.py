"""A throwaway Cyrus IMAP server on a free loopback port, the second real server of the tests.

Debian's ``cyrus-imapd`` and ``dovecot-imapd`` conflict as packages, so
``.ci/run`` installs ``cyrus-common`` and ``sasl2-bin`` (the master, the
database tools, ``saslpasswd2``) and unpacks ``cyrus-imapd`` into a folder of
its own (:data:`CYRUS_ROOT`, or ``$KW_CYRUS_ROOT``), from where ``imapd`` and
``idled`` run. Everything else lives in a temporary folder owned by the
``cyrus`` user: the configuration, the SASL password database, the spool.
``idled`` runs beside ``imapd``, so IDLE is pushed (within about a second)
instead of checked every 60 s.

With ``altnamespace=True`` (the default) personal folders sit beside INBOX
(``Klachten``); with ``False`` they sit under it (``INBOX/Klachten``), the
shape Courier and older Cyrus set-ups show. The helpers take the folder as a
user names it and put it where this server keeps it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import imapclient

from . import services
from .services import free_port

__all__ = ["Cyrus", "CYRUS_ROOT", "CyrusError"]

#: Where ``.ci/run`` unpacks the ``cyrus-imapd`` package.
CYRUS_ROOT = os.environ.get("KW_CYRUS_ROOT", "/opt/cyrus-imapd")
MASTER = "/usr/sbin/cyrmaster"
CTL_CYRUSDB = "/usr/lib/cyrus/bin/ctl_cyrusdb"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
START_TIMEOUT = 20.0
_ADMIN = "cyrus"
_APPENDUID = re.compile(rb"APPENDUID\s+(\d+)\s+(\d+)")

_IMAPD_CONF = """\
configdirectory: {base}/lib
proc_path: {base}/run/proc
mboxname_lockpath: {base}/run/lock
defaultpartition: default
partition-default: {base}/spool
altnamespace: {altnamespace}
unixhierarchysep: yes
admins: {admin}
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {base}/sasldb2
sasl_mech_list: PLAIN LOGIN
lmtpsocket: {base}/lib/socket/lmtp
idlesocket: {base}/lib/socket/idle
notifysocket: {base}/lib/socket/notify
sievedir: {base}/lib/sieve
"""

_CYRUS_CONF = """\
START {{
  recover cmd="{ctl} -C {base}/imapd.conf -r"
}}
SERVICES {{
  imap cmd="{root}/usr/lib/cyrus/bin/imapd -C {base}/imapd.conf -U 30" listen="127.0.0.1:{port}" prefork=0 maxchild=100
}}
DAEMON {{
  idled cmd="{root}/usr/lib/cyrus/bin/idled -C {base}/imapd.conf"
}}
"""


class CyrusError(RuntimeError):
    """Raised when the throwaway Cyrus cannot be started or driven."""


class Cyrus:
    """A private Cyrus on ``127.0.0.1:port``; users are added before or after :meth:`start`."""

    def __init__(self, *, altnamespace: bool = True) -> None:
        imapd = f"{CYRUS_ROOT}/usr/lib/cyrus/bin/imapd"
        for path, name in ((imapd, "Cyrus imapd (unpacked cyrus-imapd)"), (MASTER, "Cyrus master (cyrus-common)"), (SASLPASSWD2, "saslpasswd2 (sasl2-bin)")):
            services.require_binary(path, name)
        if os.geteuid() != 0:
            services.missing("the Cyrus test server must be started as root")
        try:
            entry = pwd.getpwnam(_ADMIN)
        except KeyError:
            services.missing("the cyrus system user is missing (install cyrus-common)")
        self._uid, self._gid = entry.pw_uid, entry.pw_gid
        self.host = "127.0.0.1"
        self.port = free_port()
        self.altnamespace = altnamespace
        self.separator = "/"
        self.base = Path(tempfile.mkdtemp(prefix="klachtwacht-cyrus-"))
        self._admin_password = os.urandom(12).hex()
        self._users: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._prepare()
        self._set_password(_ADMIN, self._admin_password)

    # -- life ----------------------------------------------------------------
    def _prepare(self) -> None:
        for sub in ("lib/db", "lib/socket", "lib/sieve", "run/proc", "run/lock", "spool"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "imapd.conf").write_text(
            _IMAPD_CONF.format(base=self.base, altnamespace="yes" if self.altnamespace else "no", admin=_ADMIN), encoding="utf-8"
        )
        (self.base / "cyrus.conf").write_text(_CYRUS_CONF.format(base=self.base, root=CYRUS_ROOT, port=self.port, ctl=CTL_CYRUSDB), encoding="utf-8")
        self._chown()
        subprocess.run([CTL_CYRUSDB, "-C", str(self.base / "imapd.conf"), "-r"], check=True, capture_output=True, user=self._uid, group=self._gid, extra_groups=[])

    def _chown(self) -> None:
        for root, dirs, files in os.walk(self.base):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), self._uid, self._gid)
        os.chown(self.base, self._uid, self._gid)

    def _set_password(self, user: str, password: str) -> None:
        subprocess.run(
            [SASLPASSWD2, "-p", "-c", "-f", str(self.base / "sasldb2"), user],
            input=password.encode(), check=True, capture_output=True,
        )
        os.chown(self.base / "sasldb2", self._uid, self._gid)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the master (in the foreground, as ``cyrus``) and wait for the greeting; create the users' mailboxes."""
        log = open(self.base / "master.log", "ab")
        try:
            self._process = subprocess.Popen(
                [MASTER, "-C", str(self.base / "imapd.conf"), "-M", str(self.base / "cyrus.conf"), "-p", str(self.base / "run/master.pid")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                user=self._uid, group=self._gid, extra_groups=[],
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._greets():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise CyrusError(f"Cyrus did not start:\n{self.log_tail()}")
            time.sleep(0.1)
        for user in self._users:
            self._create_mailbox(user)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Cyrus:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.base / "master.log").read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    # -- users and mail ------------------------------------------------------
    def add_user(self, name: str, password: str) -> None:
        """Add a user who logs in with ``password``; their INBOX exists once the server runs."""
        self._set_password(name, password)
        self._users[name] = password
        if self.running:
            self._create_mailbox(name)

    def _create_mailbox(self, user: str) -> None:
        with self._session(_ADMIN, self._admin_password) as admin:
            if not admin.folder_exists(f"user/{user}"):
                admin.create_folder(f"user/{user}")

    def server_folder(self, folder: str) -> str:
        """Where this server keeps the folder a user calls ``folder``."""
        if folder.upper() == "INBOX" or self.altnamespace:
            return folder
        return f"INBOX{self.separator}{folder}"

    def client(self, user: str, password: str | None = None, *, timeout: float = 10.0) -> imapclient.IMAPClient:
        """An IMAPClient logged in as ``user`` (with the password it was added with)."""
        connection = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
        try:
            connection.login(user, password if password is not None else self._users[user])
        except Exception:
            with contextlib.suppress(Exception):
                connection.shutdown()
            raise
        return connection

    @contextlib.contextmanager
    def _session(self, user: str, password: str | None = None) -> Iterator[imapclient.IMAPClient]:
        connection = self.client(user, password)
        try:
            yield connection
        finally:
            with contextlib.suppress(Exception):
                connection.logout()

    def append(self, user: str, folder: str, raw: bytes, flags: tuple[str, ...] = ()) -> int:
        """APPEND one message to ``folder`` (created if needed); return its UID."""
        name = self.server_folder(folder)
        with self._session(user) as connection:
            if name.upper() != "INBOX" and not connection.folder_exists(name):
                connection.create_folder(name)
            response = connection.append(name, raw, flags=flags)
        match = _APPENDUID.search(response if isinstance(response, bytes) else b"")
        if match is None:
            raise CyrusError(f"APPEND gave no APPENDUID: {response!r}")
        return int(match.group(2))

    def flags(self, user: str, folder: str) -> dict[int, tuple[str, ...]]:
        """``{uid: sorted flags}`` of ``folder`` without ``\\Recent``, read without changing it."""
        with self._session(user) as connection:
            selected = connection.select_folder(self.server_folder(folder), readonly=True)
            if not selected.get(b"EXISTS"):
                return {}
            fetched = connection.fetch(connection.search("ALL"), ["FLAGS"])
        out = {}
        for uid, data in fetched.items():
            names = (f.decode() if isinstance(f, bytes) else str(f) for f in data[b"FLAGS"])
            out[int(uid)] = tuple(sorted(n for n in names if n != "\\Recent"))
        return out

    def folders(self, user: str) -> list[str]:
        with self._session(user) as connection:
            return sorted(str(name) for _flags, _sep, name in connection.list_folders())
