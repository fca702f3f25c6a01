"""A review site for tests: a configuration with two mailboxes, a real database and SMTP sink, accounts, messages in review.

Messages are stored as the poller stores them (:class:`klachtwacht.intake.DatabaseSink`)
and moved with the real flow; the classifier is the package's fixed double
(confidence 0.5: between the thresholds, so every message goes to review).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from support.mail import make_mail
from support.smtp import SmtpSink

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from klachtwacht.config import Config, load_config
from klachtwacht.db import make_engine, make_sessionmaker, upgrade
from klachtwacht.db.models import AuditEntry, Message
from klachtwacht.doubles import FixedClassifier
from klachtwacht.intake import DatabaseSink
from klachtwacht.pipeline import Services, advance
from klachtwacht.web.accounts import add_user
from klachtwacht.web.app import create_app
from klachtwacht.web.passwords import cheap_hasher
from klachtwacht.wiring import build_services

__all__ = ["Site", "PASSWORD", "CSRF_INPUT", "csrf_of"]

PASSWORD = "een-lang-wachtwoord"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIVED = datetime.now(timezone.utc) - timedelta(days=3)

TOML = """
[database]
url = "{url}"
[ingest]
start = "2020-01-01"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
sender = "klachten@gemeente-veenstad.nl"
[web]
session_idle_minutes = 30
lockout_after = 3
lockout_minutes = 15
max_request_bytes = 8192
{web_extra}
[[organisations]]
name = "veenstad"
display_name = "Gemeente Veenstad"
complaints_address = "klachtencoordinator@gemeente-veenstad.nl"
bezwaar_address = "bezwaar@gemeente-veenstad.nl"
woo_address = "woo@gemeente-veenstad.nl"
[[mailboxes]]
name = "wethouder-devries"
role = "wethouder"
address = "wethouder@gemeente-veenstad.nl"
organisation = "veenstad"
secretary = "secretariaat.devries@gemeente-veenstad.nl"
[mailboxes.imap]
host = "127.0.0.1"
username = "wethouder"
password_env = "KW_PW"
[[mailboxes]]
name = "griffie"
role = "raad"
address = "griffie@gemeente-veenstad.nl"
organisation = "veenstad"
[mailboxes.imap]
host = "127.0.0.1"
username = "griffie"
password_env = "KW_PW"
"""


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF input on the page"
    return found.group(1)


@dataclass
class Site:
    tmp_path: Path
    db_url: str
    smtp: SmtpSink
    web_extra: str = ""
    config: Config = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)
    services: Services = field(init=False)
    uid: int = 0

    def __post_init__(self) -> None:
        path = self.tmp_path / "klachtwacht.toml"
        path.write_text(TOML.format(url=self.db_url, smtp_port=self.smtp.port, web_extra=self.web_extra), encoding="utf-8")
        self.config = load_config(path, env={"KW_PW": "x"})
        self.engine = make_engine(self.config.database.url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.services = build_services(self.config, FixedClassifier("klacht", p=0.5))
        self.confident = build_services(self.config, FixedClassifier("klacht", p=0.97))  # the model decides on its own
        self.hasher = cheap_hasher()

    def close(self) -> None:
        self.engine.dispose()

    def app(self, **options: Any) -> Any:
        options.setdefault("kick", lambda pk: advance(self.sessions, self.services, pk))
        return create_app(self.config, self.sessions, self.services, hasher=self.hasher, **options)

    def client(self, **options: Any) -> TestClient:
        return TestClient(self.app(**options), base_url="http://testserver", follow_redirects=False)

    def user(self, name: str, role: str = "secretaris", mailboxes: tuple[str, ...] = ("wethouder-devries",)) -> None:
        add_user(self.sessions, self.config, self.hasher, name, PASSWORD, role=role, mailboxes=mailboxes if role == "secretaris" else ())

    def store(self, mailbox: str = "wethouder-devries", subject: str = "Klacht over de balie", body: str = "De medewerker was onbeschoft tegen mij.",
              received: datetime = RECEIVED, confident: bool = False) -> int:
        """A message fetched into ``mailbox`` and moved by the flow to where it rests (review; ``confident``: registered by the model)."""
        self.uid += 1
        raw = make_mail(subject=subject, body=body, sender="Ria Jansen <ria@example.nl>", message_id=f"<m{self.uid}@example.nl>")
        sink = DatabaseSink(self.sessions, mailbox)
        sink.store_batch("INBOX", Cursor(uidvalidity=1, last_uid=self.uid), [FetchedMessage(self.uid, received, raw)])
        pk = sink.new_message_ids[0]
        advance(self.sessions, self.confident if confident else self.services, pk)
        return pk

    def state(self, pk: int) -> str:
        with self.sessions() as session:
            message = session.get(Message, pk)
            assert message is not None
            return message.state

    def audit(self, action: str | None = None) -> list[AuditEntry]:
        with self.sessions() as session:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if action:
                query = query.where(AuditEntry.action == action)
            return list(session.scalars(query))

    @staticmethod
    def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
        page = client.get("/login")
        return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text)})

    def signed_in(self, name: str, **options: Any) -> TestClient:
        client = self.client(**options)
        response = self.sign_in(client, name)
        assert response.status_code == 303, response.text
        return client
