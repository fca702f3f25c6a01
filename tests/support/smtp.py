"""An SMTP server that keeps every message it accepts, for tests.

:class:`SmtpSink` wraps aiosmtpd's threaded ``Controller`` on a free
loopback port. It can require AUTH (LOGIN/PLAIN, allowed without TLS unless
TLS is on), offer STARTTLS or implicit TLS with a self-signed certificate
made at start, and answer with an error code on demand to play an SMTP
server that is down::

    with SmtpSink(auth=("klachtwacht", "geheim")) as sink:
        send_the_reply(host=sink.host, port=sink.port)
        [captured] = sink.wait_for(1)
        assert captured.message["Subject"] == "Uw klacht"
"""

from __future__ import annotations

import datetime
import email.policy
import ipaddress
import logging
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .services import free_port

__all__ = ["ArchivingSink", "CapturedMessage", "SmtpSink", "make_self_signed_certificate"]

log = logging.getLogger(__name__)

#: Seconds :meth:`SmtpSink.wait_for` waits by default.
WAIT_TIMEOUT = 5.0
#: Default texts for :meth:`SmtpSink.fail_with`, by the first digit of the code.
FAILURE_TEXTS = {
    "4": "4.3.0 Temporary failure, please try again later (test)",
    "5": "5.7.1 Rejected (test)",
}
_STAGES = ("MAIL", "RCPT", "DATA")


@dataclass(frozen=True)
class CapturedMessage:
    """One message the sink accepted, with its envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    #: The AUTH login used, or None without AUTH.
    authenticated_as: str | None
    #: True when the message came over TLS (STARTTLS or implicit).
    tls: bool


def make_self_signed_certificate(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for ``host`` and 127.0.0.1 into ``folder``.

    Uses the ``cryptography`` package when importable, else the ``openssl``
    program. Raises NotImplementedError when neither is available.
    Returns ``(certificate, key)`` paths.
    """
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    try:
        _certificate_with_cryptography(cert_path, key_path, host)
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise NotImplementedError(
                "TLS for the SMTP sink needs the 'cryptography' package or the 'openssl' program; "
                "neither is available"
            ) from None
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(key_path), "-out", str(cert_path), "-subj", "/CN=%s" % host,
             "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % host],
            check=True,
            capture_output=True,
        )
    return cert_path, key_path


def _certificate_with_cryptography(cert_path: Path, key_path: Path, host: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt_names = x509.SubjectAlternativeName(
        [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(alt_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


class _QuietLegacyLoginData(logging.Filter):
    """Drop aiosmtpd's warning about ``Session.login_data``, logged on every AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


_AIOSMTPD_LOG = logging.getLogger("mail.log")
if not any(isinstance(f, _QuietLegacyLoginData) for f in _AIOSMTPD_LOG.filters):
    _AIOSMTPD_LOG.addFilter(_QuietLegacyLoginData())




class _Handler:
    """aiosmtpd hooks that record messages and play failures."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self._sink.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        failure = self._sink._failure("MAIL")
        if failure:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        failure = self._sink._failure("RCPT")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure = self._sink._failure("DATA")
        if failure:
            return failure
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        transport = server.transport
        captured = CapturedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=BytesParser(_class=EmailMessage, policy=email.policy.default).parsebytes(raw),
            authenticated_as=login,
            tls=transport is not None and transport.get_extra_info("sslcontext") is not None,
        )
        self._sink._record(captured)
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on ``127.0.0.1:port`` that keeps what it accepts.

    ``auth=(user, password)`` requires AUTH LOGIN or PLAIN with exactly
    these credentials before MAIL FROM (without TLS, unless ``starttls``
    is on, in which case AUTH needs STARTTLS first, as real servers do).
    ``starttls=True`` offers STARTTLS (``require_starttls=True`` refuses
    mail without it); ``implicit_tls=True`` speaks TLS from the first byte
    (SMTPS). Clients verify with :attr:`cafile`. The server runs from
    construction until :meth:`close`.
    """

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        hostname: str = "localhost",
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError("choose starttls or implicit_tls, not both")
        if require_starttls and not starttls:
            raise ValueError("require_starttls needs starttls=True")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.auth = auth
        self.messages: list[CapturedMessage] = []
        #: Transactions answered with the :meth:`fail_with` code.
        self.rejected = 0
        self.cafile: Path | None = None
        self._failure_code: int | None = None
        self._failure_stage = "MAIL"
        self._failure_text = ""
        self._changed = threading.Condition()
        self._folder: Path | None = None
        context = None
        if starttls or implicit_tls:
            self._folder = Path(tempfile.mkdtemp(prefix="klachtwacht-smtp-"))
            try:
                cert, key = make_self_signed_certificate(self._folder, hostname)
            except BaseException:
                shutil.rmtree(self._folder, ignore_errors=True)
                raise
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.cafile = cert
        kwargs: dict[str, Any] = {
            "server_hostname": hostname,
            "auth_require_tls": starttls,
            "authenticator": self._authenticate if auth is not None else None,
        }
        if starttls:
            kwargs.update(tls_context=context, require_starttls=require_starttls)
        if implicit_tls:
            kwargs.update(ssl_context=context)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        self._closed = False
        log.debug("SMTP sink on %s:%d", self.host, self.port)

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and remove the certificate files."""
        if not self._closed:
            self._closed = True
            self._controller.stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def fail_with(self, code: int | None, *, stage: str = "MAIL", text: str | None = None) -> None:
        """Answer every transaction with ``code`` from now on; None to accept again.

        ``stage`` picks the command that gets the error: ``"MAIL"`` (smtplib
        raises SMTPSenderRefused), ``"RCPT"`` (SMTPRecipientsRefused) or
        ``"DATA"`` (SMTPDataError). ``text`` replaces the default text.
        """
        if stage not in _STAGES:
            raise ValueError("stage must be one of %s, not %r" % (", ".join(_STAGES), stage))
        if code is not None and not 400 <= code <= 599:
            raise ValueError("an SMTP failure code is between 400 and 599, not %r" % code)
        with self._changed:
            self._failure_code = code
            self._failure_stage = stage
            if code is None:
                self._failure_text = ""
            else:
                self._failure_text = text or FAILURE_TEXTS[str(code)[0]]

    def wait_for(self, count: int, timeout: float = WAIT_TIMEOUT) -> list[CapturedMessage]:
        """Wait until at least ``count`` messages arrived; return all of them.

        Raises TimeoutError naming how many did arrive.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        "SMTP sink got %d of %d messages within %.1f s" % (len(self.messages), count, timeout)
                    )
                self._changed.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._changed:
            self.messages.clear()

    # -- called from the server thread ------------------------------------

    def _failure(self, stage: str) -> str | None:
        with self._changed:
            if self._failure_code is None or stage != self._failure_stage:
                return None
            self.rejected += 1
            return "%d %s" % (self._failure_code, self._failure_text)

    def _record(self, captured: CapturedMessage) -> None:
        with self._changed:
            self.messages.append(captured)
            self._changed.notify_all()
        log.debug("SMTP sink accepted a message from %s", captured.mail_from)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth is not None
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self.auth
        ok = auth_data.login == user.encode("utf-8") and auth_data.password == password.encode("utf-8")
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class ArchivingSink(SmtpSink):
    """An SMTP server whose copy to ``archive`` lands in a Dovecot folder before it answers 250, as an archive mailbox would."""

    def __init__(self, dovecot: Any, user: str, archive: str, folder: str = "INBOX") -> None:
        super().__init__()
        self.dovecot, self.user, self.archive, self.folder = dovecot, user, archive, folder

    def _record(self, captured: CapturedMessage) -> None:
        if self.archive in captured.rcpt_tos:
            self.dovecot.append(self.user, self.folder, captured.raw)
        super()._record(captured)

    def archive_config(self, port: int, password_env: str = "KW_TEST_PASSWORD", grace: float = 1.0) -> str:
        """The ``[archive]`` section that reads this sink's copies back."""
        return "\n".join([
            "[archive]", f'address = "{self.archive}"', f'folder = "{self.folder}"', f"delivery_grace = {grace}",
            "[archive.imap]", 'host = "127.0.0.1"', f"port = {port}", 'security = "none"', f'username = "{self.user}"',
            f'password_env = "{password_env}"',
        ])  # fmt: skip
