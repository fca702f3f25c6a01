"""Fixtures with real parts: Dovecot, PostgreSQL, an SMTP server, the shipped model.

Servers that cannot be reached make a test skip on a developer's machine and
FAIL when the ``CI`` environment variable is set (see ``support.services``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.dovecot import Dovecot
from support.setup import PASSWORD, Setup
from support.setup import create_pg_database as _create_pg_database
from support.smtp import SmtpSink


@pytest.fixture(scope="session")
def classifier() -> Any:
    """The shipped model, loaded once."""
    from classifiers.classifier import Classifier

    return Classifier.load()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on SQLite and on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'klachtwacht.db'}"
        return
    url, drop = _create_pg_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A throwaway Dovecot with three municipal mailboxes."""
    server = Dovecot()
    for user in ("wethouder", "raad", "secretariaat"):
        server.add_user(user, PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["dovecot", "cyrus"])
def imap_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The same three mailboxes on Dovecot and on Cyrus (support.cyrus): tests that take it run on both."""
    from support.cyrus import Cyrus

    server: Any = Dovecot() if request.param == "dovecot" else Cyrus()
    for user in ("wethouder", "raad", "secretariaat"):
        server.add_user(user, PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def setup(tmp_path: Path, db_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """A configuration on a fresh database (SQLite and PostgreSQL) with a capturing SMTP server."""
    monkeypatch.setenv("KW_TEST_PASSWORD", PASSWORD)
    return Setup(tmp_path=tmp_path, db_url=db_url, smtp=smtp)


@pytest.fixture
def graph_server() -> Iterator[Any]:
    """Our own Microsoft Graph and Entra ID token endpoint on loopback TLS (support.graph_server), with one mailbox."""
    from support.graph_server import GraphServer

    with GraphServer(users=("burgemeester@veenstad.nl",)) as server:
        yield server
