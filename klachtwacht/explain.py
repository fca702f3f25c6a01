"""Third-party failures as one line an operator can act on.

Each function turns what a driver, a client library or the operating system
raised into an error of :mod:`klachtwacht.errors` whose text names the
configuration key, the address or path, what is wrong and what to do. The
command line prints that line (the traceback only with ``--debug``).
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from klachtwacht.errors import BrokerUnavailable, DatabaseUnavailable, KlachtwachtError, NoticeUnavailable

__all__ = ["database_error", "broker_error", "smtp_error", "network_problem", "database_target", "is_database_error", "mailbox_problem"]


def _first_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.strip().splitlines()[:1]) if text.strip() else ""
    return line[:limit]


def network_problem(exc: BaseException) -> str:
    """A short, stable description of a socket-level failure."""
    if isinstance(exc, ConnectionRefusedError):
        return "refuses connections (is it running, is the port right?)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "does not answer (time-out; a firewall, or the wrong host?)"
    if isinstance(exc, socket.gaierror):
        return "is an unknown host name"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"presents a certificate we do not trust ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"fails the TLS handshake ({exc.reason or exc})"
    if isinstance(exc, ConnectionResetError):
        return "closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return _first_line(f"{type(exc).__name__}: {exc}")


def database_target(url: str) -> str:
    """The database a URL points at, without its password: a file path or ``host:port/name``."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        return path or "(in memory)"
    parts = urlsplit(url)
    return f"PostgreSQL at {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def is_database_error(exc: BaseException) -> bool:
    """True for the errors a database driver raises when the database is unreachable or refuses."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError)) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def database_error(exc: BaseException, url: str) -> KlachtwachtError:
    """The database behind ``database.url`` could not be opened, written or reached."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    key = "database.url"
    if url.startswith("sqlite"):
        path = Path(database_target(url))
        folder = path.parent
        if not folder.is_dir():
            return DatabaseUnavailable(f"{key}: the folder {folder} does not exist; create it or point {key} at another file")
        if "readonly" in text or "read-only" in text or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            return DatabaseUnavailable(f"{key}: {path} cannot be written (permission denied); give this user write access to it and to {folder}, or point {key} elsewhere")
        if "locked" in text:
            return DatabaseUnavailable(f"{key}: {path} stays locked by another process; stop it or wait, then try again")
        return DatabaseUnavailable(f"{key}: {path} cannot be opened ({_first_line(str(orig))}); check the file or point {key} elsewhere")
    parts = urlsplit(url)
    where = database_target(url)
    name = parts.path.lstrip("/") or "(none)"
    if "does not exist" in text and "database" in text:
        return DatabaseUnavailable(f"{key}: {where} has no database {name!r}; create it (createdb {name}) or correct {key}")
    if "password authentication failed" in text or ("role" in text and "does not exist" in text) or "no password supplied" in text:
        return DatabaseUnavailable(f"{key}: {where} refused user {parts.username or '(none)'!r} ({_first_line(str(orig))}); check the user and password in {key}")
    if "connection refused" in text:
        return DatabaseUnavailable(f"{key}: {where} refuses connections (is PostgreSQL running, is the port right?); start it or correct {key}")
    if "timeout" in text or "timed out" in text:
        return DatabaseUnavailable(f"{key}: {where} does not answer (time-out); check the host and the firewall, or correct {key}")
    if "could not translate host name" in text or "name or service not known" in text:
        return DatabaseUnavailable(f"{key}: {where}: unknown host name; correct {key}")
    if "closed the connection" in text or "terminating connection" in text or "server closed" in text or "connection is closed" in text:
        return DatabaseUnavailable(f"{key}: {where} went away during the work (the connection was closed); work done so far is kept; start the database again and repeat the command")
    return DatabaseUnavailable(f"{key}: {where}: {_first_line(str(orig))}")


def broker_error(exc: BaseException, url: str) -> KlachtwachtError:
    """The broker behind ``broker.url`` could not be reached or refused us."""
    parts = urlsplit(url)
    kind = "Redis" if parts.scheme.startswith("redis") else "RabbitMQ"
    where = f"{kind} at {parts.hostname or 'localhost'}:{parts.port or (6379 if kind == 'Redis' else 5672)}"
    text = str(exc).lower()
    if "auth" in text or "access_refused" in text or "access refused" in text or "password" in text:
        return BrokerUnavailable(f"broker.url: {where} refused the credentials; check the user and password in broker.url")
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError):
        problem = network_problem(cause)
    elif "refused" in text or "111" in text:
        problem = "refuses connections (is it running, is the port right?)"
    elif "timeout" in text or "timed out" in text:
        problem = "does not answer (time-out)"
    else:
        problem = _first_line(str(exc)) or type(exc).__name__
    return BrokerUnavailable(f"broker.url: {where} {problem}; start it or correct broker.url (memory:// runs everything in one process)")


def smtp_error(exc: BaseException, host: str, port: int, username: str | None = None) -> KlachtwachtError:
    """The SMTP server of ``[smtp]`` could not be reached, refused TLS or refused the login."""
    where = f"the SMTP server at {host}:{port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        answer = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return NoticeUnavailable(f"smtp.username: {where} refused the login of {username!r} ({exc.smtp_code} {_first_line(answer, 80)}); check smtp.username and smtp.password_env")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return NoticeUnavailable(f"smtp.security: {where} does not offer {_first_line(str(exc), 80)}; set smtp.security to what the server supports")
    if isinstance(exc, ssl.SSLError):
        return NoticeUnavailable(f"smtp.security: {where} {network_problem(exc)}; check smtp.security and smtp.ca_file")
    if isinstance(exc, OSError):
        return NoticeUnavailable(f"smtp.host: {where} {network_problem(exc)}; start it or correct smtp.host and smtp.port")
    if isinstance(exc, smtplib.SMTPResponseException):
        return NoticeUnavailable(f"smtp.host: {where} answered {exc.smtp_code} {_first_line(str(exc.smtp_error), 80)}; ask its administrator")
    return NoticeUnavailable(f"smtp.host: {where}: {_first_line(f'{type(exc).__name__}: {exc}')}")


def mailbox_problem(key: str, host: str, port: int, error: str) -> str:
    """An ingest pass's error for one mailbox (its text, as the poller reported it) as a line with key, address and advice."""
    text = error.lower()
    where = f"the IMAP server at {host}:{port}"
    if "refused the login" in text or "xoauth2" in text or "authenticationfailed" in text:
        return f"{key}: {where} refused the login; check username and password_env (or the XOAUTH2 app's permissions)"
    if "throttl" in text:
        return f"{key}: {where} throttles us; the next pass tries again, or ask the Exchange administrator about the limits"
    if "folder does not exist" in text:
        return f"{key.rsplit('.imap', 1)[0]}.folders: {error.split(': ', 1)[-1]}; correct the folder name"
    if "connectionrefusederror" in text:
        problem = "refuses connections"
    elif "timeout" in text or "timed out" in text:
        problem = "does not answer (time-out)"
    elif "gaierror" in text or "name or service not known" in text:
        problem = "is an unknown host name"
    elif "ssl" in text or "certificate" in text:
        problem = "fails the TLS handshake"
    else:
        return f"{key}: {error}"
    return f"{key}: {where} {problem}; check host, port and security, and that the server runs"
