"""Guards for tests that need a real service or binary.

A test that needs a server or program that is missing is *skipped* on a
developer's machine but *fails* in CI, where everything must be present: a
green CI run must never hide a service that silently went missing. CI is
recognised by a non-empty ``CI`` environment variable.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

__all__ = ["in_ci", "missing", "require", "require_binary", "free_port"]

#: Seconds :func:`require` waits for a TCP connection before giving up.
CONNECT_TIMEOUT = 1.0


def in_ci() -> bool:
    """Return True when running in CI (the ``CI`` variable is non-empty)."""
    return bool(os.environ.get("CI", "").strip())


def missing(reason: str) -> NoReturn:
    """Fail the current test in CI, skip it elsewhere, with ``reason``."""
    if in_ci():
        pytest.fail("%s (CI is set, so this is a failure, not a skip)" % reason, pytrace=False)
    pytest.skip(reason)


def require(host: str, port: int, name: str, *, timeout: float = CONNECT_TIMEOUT) -> None:
    """Make sure ``name`` accepts TCP connections on ``host:port``.

    Returns quietly when a connection can be opened; otherwise calls
    :func:`missing`, which fails in CI and skips locally.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        missing("%s is not reachable on %s:%d: %s" % (name, host, port, exc))


def require_binary(path: str, name: str) -> None:
    """Make sure the program ``name`` exists as an executable file at ``path``.

    Returns quietly when it does; otherwise calls :func:`missing`, which fails
    in CI and skips locally.
    """
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        missing("%s is not installed: no executable at %s" % (name, path))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
