"""Test support: real servers and misbehaving networks for klachtwacht's tests.

No fixtures live here; ``conftest.py`` files build them from these classes:

- :class:`Dovecot`: a throwaway Dovecot IMAP server (users, XOAUTH2,
  Exchange-like capabilities, fast maildir fills, restarts and crashes);
- :class:`TcpProxy`: a loopback proxy that cuts, truncates or refuses;
- :class:`SmtpSink`: an SMTP server that keeps what it accepts or fails on cue;
- :func:`require` / :func:`require_binary`: skip locally, fail in CI.
"""

from .dovecot import EXCHANGE_LIKE_CAPABILITIES, Dovecot, DovecotError, make_token
from .services import in_ci, missing, require, require_binary
from .smtp import CapturedMessage, SmtpSink, make_self_signed_certificate
from .tcpproxy import TcpProxy

__all__ = [
    "EXCHANGE_LIKE_CAPABILITIES",
    "CapturedMessage",
    "Dovecot",
    "DovecotError",
    "SmtpSink",
    "TcpProxy",
    "in_ci",
    "make_self_signed_certificate",
    "make_token",
    "missing",
    "require",
    "require_binary",
]
