"""A review desk on a fresh database (SQLite or PostgreSQL): mail stored as the poller does, moved by the real flow.

The outside world (register backend, mailer) is the package's test doubles;
the classifier is a :class:`FixedClassifier` whose label and probability a
test sets before each message, so one message goes to review and the next is
registered by the model.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from support.mail import make_mail

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from klachtwacht.config import load_config
from klachtwacht.db import make_sessionmaker, upgrade
from klachtwacht.db.models import Effect, Message, RegisterEntry
from klachtwacht.doubles import FixedClassifier, MemoryMailer, MemoryRegister
from klachtwacht.flow import Flow
from klachtwacht.intake import DatabaseSink
from klachtwacht.pipeline import Services, advance
from klachtwacht.seams import Seams
from klachtwacht.wiring import build_services

RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)  # a Monday of ISO week 2026-W10
TOML = """
[database]
url = "{url}"
[smtp]
sender = "klachten@gemeente-veenstad.nl"
[ingest]
# the messages of these tests arrive in March 2026: live mail, not history, and no age guard
start = 2000-01-01
max_age_days = 0
[[organisations]]
name = "default"
display_name = "Gemeente Veenstad"
bezwaar_address = "bezwaar@gemeente-veenstad.nl"
[[mailboxes]]
name = "wethouder-devries"
role = "wethouder"
address = "wethouder@gemeente-veenstad.nl"
secretary = "secretariaat@gemeente-veenstad.nl"
[mailboxes.imap]
host = "127.0.0.1"
username = "wethouder"
password_env = "KW_PW"
{extra}
"""


class Desk:
    def __init__(self, tmp_path: Path, db_url: str, extra: str = "") -> None:
        path = tmp_path / "klachtwacht.toml"
        path.write_text(TOML.format(url=db_url, extra=extra), encoding="utf-8")
        self.config = load_config(path, env={"KW_PW": "x"})
        self.engine = create_engine(db_url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.mailer = MemoryMailer()
        self.register = MemoryRegister()
        self.classifier = FixedClassifier("klacht", p=0.6)
        self.services: Services = build_services(self.config, seams=Seams(self.classifier, self.register, self.mailer, None))
        assert self.services.flow is not None
        self.flow: Flow = self.services.flow
        self.uid = 0

    def close(self) -> None:
        self.engine.dispose()

    def arrive(self, *, label: str = "klacht", p: float = 0.6, subtype: str | None = None, received: datetime = RECEIVED,
               subject: str = "Klacht", body: str = "De medewerker was onbeschoft.", sender: str = "Ria <ria@example.nl>") -> int:
        """Store one mail, classified as ``label`` with probability ``p``, and run the flow as far as it goes."""
        self.classifier.label, self.classifier.p, self.classifier.subtype = label, p, subtype
        self.uid += 1
        raw = make_mail(subject=subject, body=body, sender=sender, message_id=f"<m{self.uid}@example.nl>")
        sink = DatabaseSink(self.sessions, "wethouder-devries")
        sink.store_batch("INBOX", Cursor(uidvalidity=1, last_uid=self.uid), [FetchedMessage(self.uid, received, raw)])
        pk = sink.new_message_ids[0]
        self.run(pk)
        return pk

    def run(self, pk: int) -> str:
        return advance(self.sessions, self.services, pk)

    def message(self, pk: int) -> Message:
        with self.sessions() as session:
            message = session.get(Message, pk)
            assert message is not None
            session.expunge(message)
            return message

    def state(self, pk: int) -> str:
        return self.message(pk).state

    def outbox(self, pk: int) -> dict[str, str]:
        with self.sessions() as session:
            return {row.effect: row.status for row in session.scalars(select(Effect).where(Effect.message_pk == pk))}

    def entry(self, pk: int) -> Any:
        with self.sessions() as session:
            entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == pk))
            if entry is not None:
                session.expunge(entry)
            return entry

    def letters_to(self, address: str) -> int:
        return sum(1 for m in self.mailer.sent if m.to == address)
