"""A throwaway Dovecot IMAP server on a free loopback port, for tests.

Follows ``shared/recipes/imap-servers.md``: a private configuration in a
temporary folder, mail owned by the ``vmail`` system user, the package's
``dovecot``/``dovenull`` users for the internal and login processes. The
helpers reach every mailbox through a master user (``USER*MASTER``), so they
work for users who log in with XOAUTH2 only and never change ``\\Seen``.

Typical use::

    server = Dovecot(oauth2_secret="s3cret")
    server.add_user("wethouder", "geheim")      # before start: no waiting
    with server:
        uid = server.append("wethouder", "INBOX", raw_bytes)
        token = make_token("wethouder", "s3cret")
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import imapclient
import jwt
from imapclient import imap_utf7
from jwt.warnings import InsecureKeyLengthWarning

from . import services
from .services import free_port

__all__ = [
    "DOVECOT_BINARY",
    "EXCHANGE_LIKE_CAPABILITIES",
    "Dovecot",
    "DovecotError",
    "make_token",
]

log = logging.getLogger(__name__)

#: Where Debian's ``dovecot-core`` installs the server.
DOVECOT_BINARY = "/usr/sbin/dovecot"
#: Capabilities advertised after login when ``exchange_like=True``: what
#: Exchange Online offers, notably without CONDSTORE and QRESYNC.
EXCHANGE_LIKE_CAPABILITIES = (
    "IMAP4 IMAP4rev1 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
)
#: Seconds :meth:`Dovecot.start` waits for the greeting on the port.
START_TIMEOUT = 10.0
#: Seconds :meth:`Dovecot.stop` waits for the master to exit before SIGKILL.
STOP_TIMEOUT = 10.0
#: Lines of ``dovecot.log`` quoted when something goes wrong.
LOG_TAIL_LINES = 40
#: Where the data folder goes by default when writable: a memory file system,
#: where creating maildir files is about fifty times faster than on ext4.
MEMORY_DIR = "/dev/shm"
#: UIDs per FETCH command in the helpers.
FETCH_CHUNK = 1000
#: The folder separator the server presents (Exchange uses ``/`` as well).
SEPARATOR = "/"

_MASTER_USER = "klachtwacht-master"
_MAIL_USER = "vmail"
_SERVICE_USERS = ("dovecot", "dovenull")
_FORBIDDEN_IN_NAMES = re.compile(r"[:*\s/]")
_APPENDUID = re.compile(rb"APPENDUID\s+(\d+)\s+(\d+)")
_MAILDIR_FLAGS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/run/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_master_user_separator = *
auth_failure_delay = 0
auth_debug = {auth_debug}
mail_location = maildir:{base}/mail/%u/Maildir
mail_fsync = never
mail_max_userip_connections = 200
first_valid_uid = {uid}
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
{capability}
namespace inbox {{
  inbox = yes
  separator = {separator}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# No growing delay after failed logins (auth penalty): tests fail logins on purpose.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  master = yes
  args = scheme=PLAIN username_format=%u {base}/etc/master-users
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {base}/etc/users
}}
{oauth2_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%u
}}
"""

_OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/etc/oauth2.conf.ext
}}
"""

_OAUTH2_CONF = """\
introspection_mode = local
local_validation_key_dict = fs:posix:prefix={base}/keys/
username_attribute = email
"""


class DovecotError(RuntimeError):
    """Raised when the throwaway Dovecot cannot be started, stopped or driven."""


def make_token(user: str, secret: str, expires_in: int = 3600, **claims: Any) -> str:
    """Return an HS256 JWT that a :class:`Dovecot` with ``oauth2_secret=secret`` accepts.

    The token carries ``sub`` and ``email`` (the login name), ``iat`` and
    ``exp`` (now + ``expires_in`` seconds; negative for an expired token).
    ``claims`` are added last, so they can override or, with ``None``,
    remove any of these (``sub=None`` gives a token Dovecot refuses).
    """
    now = int(time.time())
    payload: dict[str, Any] = {"sub": user, "email": user, "iat": now, "exp": now + expires_in}
    payload.update(claims)
    payload = {key: value for key, value in payload.items() if value is not None}
    with warnings.catch_warnings():
        # Short test secrets are intended here.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, secret.encode("utf-8"), algorithm="HS256")




def _system_user(name: str) -> tuple[int, int]:
    """Return uid and gid of the user ``name``, creating a system user if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        log.info("creating system user %s for the test Dovecot", name)
        command = ["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", name]
        subprocess.run(command, check=True, capture_output=True)
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _check_name(kind: str, value: str) -> None:
    if not value or _FORBIDDEN_IN_NAMES.search(value):
        raise ValueError("%s %r must be non-empty without ':', '*', '/' or spaces" % (kind, value))


def _check_password(value: str) -> None:
    if ":" in value or "\n" in value or "\r" in value:
        raise ValueError("a password for the passwd-file must not contain ':' or newlines")


def _write_file(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` atomically so Dovecot never reads half a file."""
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.chmod(mode)
    scratch.replace(path)


class Dovecot:
    """A private Dovecot on ``127.0.0.1:port`` with its data in a temporary folder.

    Needs root and the binary (skips locally and fails in CI without them,
    see :mod:`.services`). The data folder is made in ``parent_dir``, by
    default :data:`MEMORY_DIR` when writable, else the system's temp folder.
    ``add_user`` works before and after ``start`` (before is faster);
    ``stop``/``kill`` keep the data so ``start``/``restart`` resume on the
    same port; ``close`` (or leaving the ``with`` block) kills the server and
    deletes the folder.
    """

    def __init__(
        self,
        *,
        oauth2_secret: str | None = None,
        exchange_like: bool = False,
        port: int | None = None,
        binary: str = DOVECOT_BINARY,
        start_timeout: float = START_TIMEOUT,
        auth_debug: bool = False,
        parent_dir: str | Path | None = None,
    ) -> None:
        services.require_binary(binary, "Dovecot")
        if os.geteuid() != 0:
            services.missing("the Dovecot test server must be started as root")
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port()
        self.oauth2_secret = oauth2_secret
        self.exchange_like = exchange_like
        self.binary = binary
        self.start_timeout = start_timeout
        if parent_dir is None and os.access(MEMORY_DIR, os.W_OK):
            parent_dir = MEMORY_DIR
        self.base = Path(tempfile.mkdtemp(prefix="klachtwacht-dovecot-", dir=parent_dir))
        self._users: dict[str, str] = {}
        self._users_mtime = 0
        self._master_password = base64.urlsafe_b64encode(os.urandom(18)).decode("ascii")
        self._process: subprocess.Popen[bytes] | None = None
        for name in _SERVICE_USERS:
            _system_user(name)
        self._uid, self._gid = _system_user(_MAIL_USER)
        self._finalizer = weakref.finalize(self, _cleanup, [None], self.base)
        self._prepare(auth_debug)

    # -- lifecycle -------------------------------------------------------

    def __enter__(self) -> Dovecot:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """True while the master process started by :meth:`start` is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        """The server's log file, kept across restarts."""
        return self.base / "dovecot.log"

    def start(self) -> None:
        """Start the server and wait until it greets on its port.

        Raises :class:`DovecotError` with the tail of the log when the
        server exits or does not greet within ``start_timeout`` seconds.
        """
        if self.running:
            raise DovecotError("Dovecot is already running on port %d" % self.port)
        (self.base / "run" / "master.pid").unlink(missing_ok=True)
        self._wait_port_closed()
        with open(self.base / "dovecot.stderr", "ab") as errors:
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.base / "etc" / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=errors,
                stderr=errors,
                start_new_session=True,
            )
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, [self._process], self.base)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DovecotError(
                    "Dovecot exited with status %s while starting:\n%s"
                    % (self._process.returncode, self.log_tail())
                )
            if self._greets():
                log.info("Dovecot ready on %s:%d in %s", self.host, self.port, self.base)
                return
            time.sleep(0.05)
        self.kill()
        raise DovecotError(
            "Dovecot did not greet on port %d within %.1f s:\n%s"
            % (self.port, self.start_timeout, self.log_tail())
        )

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM, then SIGKILL); keep the data."""
        process = self._process
        if process is None or process.poll() is not None:
            self._process = None
            return
        # The whole process group: the master alone waits a second for its children.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("Dovecot ignored SIGTERM for %.0f s; killing it", STOP_TIMEOUT)
            self.kill()
            return
        self._process = None
        self._wait_port_closed()

    def kill(self) -> None:
        """SIGKILL the master and its processes, like a crash; keep the data.

        Open client connections are cut; the stale ``master.pid`` is left
        behind on purpose (the next :meth:`start` removes it).
        """
        process = self._process
        if process is None:
            return
        children = _children(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._process = None
        self._wait_port_closed()

    def restart(self) -> None:
        """Stop gracefully and start again on the same port with the same data."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Kill the server and delete its temporary folder with all mail."""
        self.kill()
        self._finalizer()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last ``lines`` lines of the log and of the process output."""
        parts = []
        for path in (self.log_path, self.base / "dovecot.stderr"):
            with contextlib.suppress(OSError):
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                if text:
                    parts.append("--- %s ---\n%s" % (path.name, "\n".join(text[-lines:])))
        return "\n".join(parts) or "(no log output)"

    # -- users -----------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Add (or change the password of) a user; takes effect immediately.

        Dovecot re-reads the passwd-file when it changes, so no restart is
        needed while the server runs; since Dovecot looks at the file at most
        once a second, a call on a running server waits for the next second.
        """
        _check_name("user name", name)
        _check_password(password)
        self._users[name] = password
        lines = "".join("%s:{PLAIN}%s\n" % item for item in self._users.items())
        path = self.base / "etc" / "users"
        _write_file(path, lines)
        # Dovecot compares the file's mtime in whole seconds: make it move.
        self._users_mtime = max(int(time.time()), self._users_mtime + 1)
        os.utime(path, (self._users_mtime, self._users_mtime))
        if self.running:
            # ... and stats the file at most once per second of its clock.
            time.sleep(1.0 - time.time() % 1.0 + 0.01)

    def client(
        self, user: str, password: str | None = None, *, timeout: float = 10.0
    ) -> imapclient.IMAPClient:
        """Return an IMAPClient logged in as ``user``.

        With ``password=None`` the login goes through the master user, which
        works for any user name, also one without a password.
        """
        connection = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
        try:
            if password is None:
                connection.login("%s*%s" % (user, _MASTER_USER), self._master_password)
            else:
                connection.login(user, password)
        except Exception:
            with contextlib.suppress(Exception):
                connection.shutdown()
            raise
        return connection

    # -- mailbox helpers -------------------------------------------------

    def append(
        self,
        user: str,
        folder: str,
        raw: bytes,
        flags: Sequence[str] = (),
        msg_time: datetime | None = None,
    ) -> int:
        """APPEND one message to ``folder`` (created if needed); return its UID."""
        with self._session(user) as connection:
            _ensure_folder(connection, folder)
            response = connection.append(folder, raw, flags=tuple(flags), msg_time=msg_time)
        match = _APPENDUID.search(response if isinstance(response, bytes) else b"")
        if match is None:
            raise DovecotError("APPEND gave no APPENDUID: %r" % (response,))
        return int(match.group(2))

    def fast_fill(
        self,
        user: str,
        folder: str,
        messages: Iterable[bytes],
        *,
        flags: Sequence[str] = (),
        into_new: bool = False,
    ) -> int:
        """Write messages straight into the maildir, much faster than APPEND.

        The folder is created over IMAP first if needed; Dovecot indexes the
        files on the next SELECT. ``flags`` may hold system flags only.
        Files go to ``cur/`` (or ``new/`` with ``into_new=True``), owned by
        ``vmail``. Returns the number of messages written.
        """
        letters = []
        for flag in flags:
            if flag not in _MAILDIR_FLAGS:
                raise ValueError("fast_fill takes system flags only, not %r" % flag)
            letters.append(_MAILDIR_FLAGS[flag])
        info = "" if into_new else ":2," + "".join(sorted(letters))
        with self._session(user) as connection:
            _ensure_folder(connection, folder)
        target = self._maildir(user, folder) / ("new" if into_new else "cur")
        if not target.is_dir():
            raise DovecotError("no maildir at %s for folder %r" % (target, folder))
        stamp, pid, count = int(time.time()), os.getpid(), 0
        for count, raw in enumerate(messages, start=1):
            name = "%d.M%dP%dQ%d.klachtwacht,S=%d%s" % (stamp, time.monotonic_ns() % 10**9, pid, count, len(raw), info)
            fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, raw)
                os.fchown(fd, self._uid, self._gid)
            finally:
                os.close(fd)
        log.info("wrote %d messages into %s", count, target)
        return count

    def flags(self, user: str, folder: str) -> dict[int, tuple[str, ...]]:
        """Return ``{uid: sorted flags}`` of ``folder``, read without changing it.

        ``\\Recent`` is left out: it depends on which session looked first.
        """
        with self._session(user) as connection:
            selected = connection.select_folder(folder, readonly=True)
            if not selected.get(b"EXISTS"):
                return {}
            fetched = _fetch_all(connection, ["FLAGS"])
        result = {}
        for uid, data in fetched.items():
            names = (f.decode("utf-8") if isinstance(f, bytes) else str(f) for f in data[b"FLAGS"])
            result[int(uid)] = tuple(sorted(n for n in names if n != "\\Recent"))
        return result

    def folders(self, user: str) -> list[str]:
        """Return the sorted names of all folders of ``user``."""
        with self._session(user) as connection:
            return sorted(str(name) for _flags, _sep, name in connection.list_folders())

    def uidvalidity(self, user: str, folder: str) -> int:
        """Return the UIDVALIDITY of ``folder``."""
        with self._session(user) as connection:
            status = connection.folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    def delete_folder(self, user: str, folder: str) -> None:
        """Delete ``folder`` and its messages over IMAP."""
        with self._session(user) as connection:
            connection.delete_folder(folder)

    def recreate_folder(self, user: str, folder: str, *, keep_messages: bool = False) -> int:
        """Delete and create ``folder`` again, so UIDVALIDITY changes; return the new one.

        With ``keep_messages=True`` the messages (with flags and internal
        dates) are appended again: same mail, new UIDs under a new UIDVALIDITY.
        INBOX cannot be deleted, so it cannot be recreated (ValueError).
        """
        if folder.upper() == "INBOX":
            raise ValueError("INBOX cannot be deleted, so it cannot be recreated")
        with self._session(user) as connection:
            saved: list[tuple[bytes, tuple[bytes, ...], datetime]] = []
            if keep_messages:
                selected = connection.select_folder(folder, readonly=True)
                if selected.get(b"EXISTS"):
                    fetched = _fetch_all(connection, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])
                    for uid in sorted(fetched):
                        data = fetched[uid]
                        kept = tuple(f for f in data[b"FLAGS"] if f != b"\\Recent")
                        saved.append((data[b"BODY[]"], kept, data[b"INTERNALDATE"]))
                connection.unselect_folder()
            connection.delete_folder(folder)
            connection.create_folder(folder)
            for raw, kept, when in saved:
                connection.append(folder, raw, flags=kept, msg_time=when)
            status = connection.folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    # -- internals -------------------------------------------------------

    @contextlib.contextmanager
    def _session(self, user: str) -> Iterator[imapclient.IMAPClient]:
        connection = self.client(user)
        try:
            yield connection
        finally:
            with contextlib.suppress(Exception):
                connection.logout()

    def _maildir(self, user: str, folder: str) -> Path:
        root = self.base / "mail" / user / "Maildir"
        if folder.upper() == "INBOX":
            return root
        encoded: bytes = imap_utf7.encode(folder)
        return root / ("." + encoded.decode("ascii").replace(SEPARATOR, "."))

    def _prepare(self, auth_debug: bool) -> None:
        """Write the configuration and set ownership as the recipe requires."""
        for sub in ("etc", "run", "mail", "keys/default/HS256"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        for folder in (self.base, self.base / "etc", self.base / "keys", self.base / "keys/default",
                       self.base / "keys/default/HS256"):
            folder.chmod(0o755)
        os.chown(self.base / "mail", self._uid, self._gid)
        mechanisms = "plain login"
        oauth2_passdb = ""
        if self.oauth2_secret is not None:
            mechanisms += " xoauth2 oauthbearer"
            oauth2_passdb = _OAUTH2_PASSDB.format(base=self.base)
            _write_file(self.base / "etc" / "oauth2.conf.ext", _OAUTH2_CONF.format(base=self.base))
            secret = base64.b64encode(self.oauth2_secret.encode("utf-8")).decode("ascii")
            _write_file(self.base / "keys" / "default" / "HS256" / "default", secret)
        capability = ""
        if self.exchange_like:
            capability = "imap_capability = %s" % EXCHANGE_LIKE_CAPABILITIES
        _write_file(self.base / "etc" / "users", "")
        _write_file(self.base / "etc" / "master-users", "%s:{PLAIN}%s\n" % (_MASTER_USER, self._master_password))
        config = _CONFIG.format(
            base=self.base,
            port=self.port,
            uid=self._uid,
            gid=self._gid,
            mechanisms=mechanisms,
            auth_debug="yes" if auth_debug else "no",
            capability=capability,
            separator=SEPARATOR,
            oauth2_passdb=oauth2_passdb,
        )
        _write_file(self.base / "etc" / "dovecot.conf", config)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def _wait_port_closed(self, timeout: float = STOP_TIMEOUT) -> None:
        """Wait until nothing listens on the port any more (old children gone)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                return
            time.sleep(0.05)
        raise DovecotError("port %d still accepts connections after %.0f s" % (self.port, timeout))


def _ensure_folder(connection: imapclient.IMAPClient, folder: str) -> None:
    """Create ``folder`` unless it exists; make Dovecot create INBOX on disk."""
    if folder.upper() == "INBOX":
        connection.folder_status("INBOX", [b"MESSAGES"])
    elif not connection.folder_exists(folder):
        connection.create_folder(folder)


def _fetch_all(connection: imapclient.IMAPClient, items: Sequence[str]) -> dict[int, dict[bytes, Any]]:
    """FETCH ``items`` for every message of the selected folder.

    IMAPClient 4 rejects ``"1:*"`` and sends UID lists uncompressed, which
    Dovecot refuses beyond a few thousand, so the UIDs go in chunks.
    """
    uids = sorted(connection.search("ALL"))
    fetched: dict[int, dict[bytes, Any]] = {}
    for start in range(0, len(uids), FETCH_CHUNK):
        fetched.update(connection.fetch(uids[start : start + FETCH_CHUNK], list(items)))
    return fetched


def _children(pid: int) -> list[int]:
    """Return the ids of the direct children of ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path("/proc", entry, "stat").read_text()
            # The command name is in parentheses and may hold spaces.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _cleanup(processes: list[subprocess.Popen[bytes] | None], base: Path) -> None:
    """Last resort at garbage collection or exit: kill the master, drop the data."""
    for process in processes:
        if process is not None and process.poll() is None:
            for pid in _children(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.kill()
            process.wait()
    shutil.rmtree(base, ignore_errors=True)
