"""One IMAP connection, read-only, with every server error translated.

The mailbox owner's mail is never touched: folders are opened with EXAMINE
(``select_folder(readonly=True)``) and bodies are read with ``BODY.PEEK[]``,
so ``\\Seen`` and folders stay as they are. Socket timeouts are always set.
Errors leave this module as :mod:`klachtwacht.errors` exceptions.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_errors

from ingest.folders import folder_candidates
from ingest.tokens import TokenProvider
from klachtwacht.config import ImapConfig
from klachtwacht.errors import (
    AuthenticationFailed,
    FolderMissing,
    KlachtwachtError,
    MailboxThrottled,
    MailboxUnavailable,
)

__all__ = ["ImapConnection", "FetchedMessage", "FolderStatus", "translate_error"]

log = logging.getLogger(__name__)

_THROTTLED = re.compile(rb"throttled.*?(\d+)\s*milliseconds", re.IGNORECASE | re.DOTALL)
_FOLDER_MISSING = ("nonexistent", "doesn't exist", "does not exist", "not found", "unknown mailbox", "no such")
FETCH_ITEMS = ["BODY.PEEK[]", "INTERNALDATE", "RFC822.SIZE", "FLAGS"]
#: UIDs per RFC822.SIZE request, to keep command lines short.
SIZE_CHUNK = 400


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """What EXAMINE told us about a folder."""

    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """The raw bytes of one message and where and when the server got it."""

    uid: int
    internaldate: datetime  # the server's receipt time, timezone-aware
    raw: bytes
    flags: tuple[str, ...] = ()  # the flags when fetched (read, never set), e.g. "\\Answered"

    @property
    def answered(self) -> bool:
        """The mailbox owner had replied to it (``\\Answered``) when it was fetched."""
        return any(flag.lower() == "\\answered" for flag in self.flags)


def translate_error(exc: BaseException, context: str) -> KlachtwachtError:
    """Turn an IMAPClient, imaplib or socket error into our error tree."""
    text = str(exc)
    raw = text.encode("utf-8", "replace")
    if isinstance(exc, KlachtwachtError):
        return exc
    if isinstance(exc, imap_errors.LoginError):
        return AuthenticationFailed(f"{context}: the server refused the login ({_short(text)})")
    throttled = _THROTTLED.search(raw)
    if throttled or b"throttled" in raw.lower():
        retry_after = int(throttled.group(1)) / 1000 if throttled else 60.0
        return MailboxThrottled(f"{context}: the server is throttling us", retry_after=retry_after)
    if "AccessTokenExpired" in text:
        return MailboxUnavailable(f"{context}: the access token expired (server ended the session)")
    if isinstance(exc, (imap_errors.IMAPClientAbortError, OSError, socket.timeout, ssl.SSLError, EOFError)):
        return MailboxUnavailable(f"{context}: connection lost ({type(exc).__name__}: {_short(text)})")
    if isinstance(exc, imap_errors.IMAPClientError):
        if any(marker in text.lower() for marker in _FOLDER_MISSING):
            return FolderMissing(f"{context}: the folder does not exist ({_short(text)})")
        return MailboxUnavailable(f"{context}: the server answered with an error ({_short(text)})")
    return MailboxUnavailable(f"{context}: unexpected {type(exc).__name__}: {_short(text)}")


def _short(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")[:200]


class ImapConnection:
    """A logged-in, read-only IMAP session with one mailbox.

    Use as a context manager, or call :meth:`connect` and :meth:`close`.
    ``client_factory`` exists for unit tests of the translation logic.
    """

    def __init__(
        self,
        config: ImapConfig,
        *,
        tokens: TokenProvider | None = None,
        client_factory: Callable[..., Any] = IMAPClient,
        label: str = "",
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.client_factory = client_factory
        self.label = label or f"{config.username}@{config.host}"
        self.client: Any = None
        self._folder: str | None = None
        self._refresh_token = False
        self._resolved: dict[str, str] = {}

    def __enter__(self) -> ImapConnection:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connection ---------------------------------------------------------
    def connect(self) -> None:
        """Open the socket and log in; raise AuthenticationFailed or MailboxUnavailable."""
        cfg = self.config
        timeout = SocketTimeout(connect=cfg.connect_timeout, read=cfg.read_timeout)
        try:
            client = self.client_factory(
                cfg.host, port=cfg.port, use_uid=True, ssl=cfg.security == "tls", timeout=timeout
            )
            if cfg.security == "starttls":
                client.starttls(ssl.create_default_context())
            client.normalise_times = False
            _quiet_imaplib(client)
            self.client = client
            self._login(client)
        except Exception as exc:
            self.close()
            raise translate_error(exc, f"{self.label}: connect") from exc
        self._folder = None
        log.info("imap %s: connected", self.label)

    def _login(self, client: Any) -> None:
        cfg = self.config
        if cfg.auth == "xoauth2":
            if self.tokens is None:
                raise AuthenticationFailed(f"{self.label}: xoauth2 configured without a token provider")
            token = self.tokens.token(refresh=self._refresh_token)
            self._refresh_token = False
            try:
                client.oauth2_login(cfg.username, token, mech="XOAUTH2")
            except imap_errors.IMAPClientError as exc:
                raise AuthenticationFailed(f"{self.label}: the server refused the XOAUTH2 token ({_short(str(exc))})") from exc
        else:
            secret = cfg.password.reveal() if cfg.password else ""
            client.login(cfg.username, secret)

    def expect_token_refresh(self) -> None:
        """Ask for a fresh token at the next login (after ``AccessTokenExpired``)."""
        self._refresh_token = True

    def close(self) -> None:
        """Log out if possible; never raises."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection may already be gone
            try:
                client.shutdown()
            except Exception:
                pass

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        if self.client is None:
            raise MailboxUnavailable(f"{self.label}: not connected")
        try:
            return fn()
        except Exception as exc:
            raise translate_error(exc, f"{self.label}: {what}") from exc

    # -- reading ------------------------------------------------------------
    @property
    def capabilities(self) -> tuple[str, ...]:
        caps = self._call("capabilities", lambda: self.client.capabilities())
        return tuple(c.decode() if isinstance(c, bytes) else str(c) for c in caps)

    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def resolve(self, folder: str) -> str:
        """The server's name for the configured ``folder`` (see :mod:`ingest.folders`); remembered per connection object.

        A name none of whose candidates exists is returned unchanged, so
        that EXAMINE reports it missing under the name the user wrote.
        """
        if folder.upper() == "INBOX":
            return folder  # INBOX is INBOX everywhere, in any case
        if folder in self._resolved:
            return self._resolved[folder]
        name: str = self._call("list", lambda: self._find_folder(folder))
        if name != folder:
            log.info("imap %s: folder %r is %r on this server", self.label, folder, name)
        self._resolved[folder] = name
        return name

    def _find_folder(self, folder: str) -> str:
        client = self.client
        try:
            personal: list[tuple[str, str | None]] = []
            if "NAMESPACE" in self.capabilities:
                personal = [(_text(prefix), _text(sep) if sep else None) for prefix, sep in (client.namespace().personal or ())]
            listed = client.list_folders("", "")
            separator = _text(listed[0][1]) if listed and listed[0][1] else None
            for candidate in folder_candidates(folder, personal, separator):
                if client.list_folders("", candidate):
                    return candidate
        except imap_errors.IMAPClientAbortError:
            raise
        except imap_errors.IMAPClientError:  # BAD/NO to NAMESPACE or LIST: the name as written
            return folder
        return folder

    def examine(self, folder: str) -> FolderStatus:
        """Open the configured ``folder`` read-only (EXAMINE), under its server name, and report its status."""
        server_name = self.resolve(folder)
        info = self._call(f"examine {folder!r}", lambda: self.client.select_folder(server_name, readonly=True))
        self._folder = folder
        uidnext = info.get(b"UIDNEXT")
        return FolderStatus(
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(uidnext) if uidnext is not None else None,
            exists=int(info.get(b"EXISTS", 0)),
        )

    def uids_from(self, first_uid: int) -> list[int]:
        """Every UID from ``first_uid`` on, as the server reports it (unfiltered)."""
        found = self._call("search", lambda: self.client.search(["UID", f"{max(first_uid, 1)}:*"]))
        return [int(uid) for uid in found]

    def uids_since(self, day: date) -> list[int]:
        """UIDs of the messages the server received on or after ``day`` (UID SEARCH SINCE, by INTERNALDATE)."""
        found = self._call("search since", lambda: self.client.search(["SINCE", day]))
        return [int(uid) for uid in found]

    def sizes(self, uids: Iterable[int]) -> dict[int, int]:
        """RFC822.SIZE per UID, to plan batches by bytes."""
        uid_list = list(uids)
        if not uid_list:
            return {}
        sizes: dict[int, int] = {}
        # servers limit the command length (Dovecot refuses a few thousand UIDs in one line)
        for start in range(0, len(uid_list), SIZE_CHUNK):
            chunk = uid_list[start : start + SIZE_CHUNK]
            data = self._call("fetch sizes", lambda: self.client.fetch(chunk, ["RFC822.SIZE"]))
            sizes.update((int(uid), int(item.get(b"RFC822.SIZE", 0))) for uid, item in data.items())
        return sizes

    def fetch(self, uids: Iterable[int]) -> list[FetchedMessage]:
        """Fetch bodies with BODY.PEEK[] (never sets \\Seen), INTERNALDATE and the flags (read only)."""
        uid_list = list(uids)
        if not uid_list:
            return []
        data = self._call("fetch", lambda: self.client.fetch(uid_list, FETCH_ITEMS))
        wanted = set(uid_list)
        out = []
        for uid, item in sorted(data.items()):
            if int(uid) not in wanted or b"BODY[]" not in item:
                continue  # unsolicited FETCH responses (flag updates) carry no body
            flags = tuple(_text(flag) for flag in item.get(b"FLAGS", ()))
            out.append(FetchedMessage(uid=int(uid), internaldate=_aware(item.get(b"INTERNALDATE")), raw=bytes(item[b"BODY[]"]), flags=flags))
        return out

    # -- waiting ------------------------------------------------------------
    def idle_start(self) -> None:
        """Enter IDLE on the examined folder."""
        self._call("idle", lambda: self.client.idle())

    def idle_check(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds in IDLE; True when the server reported new mail (EXISTS).

        Flag changes, expunges and keep-alive lines are not news. IDLE is
        only a hint: a dead link can look like silence, so the caller polls
        regardless at its safety-net interval.
        """
        return _has_exists(self._call("idle check", lambda: self.client.idle_check(timeout=timeout)))

    def idle_done(self) -> bool:
        """Leave IDLE; True when the responses that came with leaving report new mail."""
        answer = self._call("idle done", lambda: self.client.idle_done())
        return _has_exists(answer[1] if isinstance(answer, tuple) and len(answer) > 1 else ())

    def noop(self) -> None:
        """Check that the connection is alive."""
        self._call("noop", lambda: self.client.noop())


def _quiet_imaplib(client: Any) -> None:
    """Switch off the imaplib trace IMAPClient turns on (``debug = 5``).

    At that level imaplib formats the ``repr`` of every response it stores,
    message bodies included, whether or not anything logs it: a 54 MB
    message cost 127 MB more for a moment (and its time), and with DEBUG
    logging the bodies would reach the log. IMAPClient's own debug lines stay.
    """
    imap = getattr(client, "_imap", None)
    if imap is not None and hasattr(imap, "debug"):
        imap.debug = 0


def _has_exists(responses: Any) -> bool:
    for response in responses or ():
        if isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", "EXISTS"):
            return True
    return False


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        return datetime.now(timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
