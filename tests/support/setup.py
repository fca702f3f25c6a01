"""What tests share beyond fixtures: the PostgreSQL test databases and :class:`Setup`, a configuration for one test's servers.

In a module of its own (not conftest.py) so that a test can import it by name:
``conftest`` names whichever conftest.py was imported last.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.dovecot import Dovecot
from support.services import require
from support.smtp import SmtpSink

__all__ = ["PG_HOST", "PG_PORT", "PG_ADMIN_URL", "PASSWORD", "create_pg_database", "Setup"]

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = os.environ.get("KW_TEST_PG", f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres")
PASSWORD = "geheim-wachtwoord"


def create_pg_database() -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text

    require(PG_HOST, PG_PORT, "PostgreSQL")
    name = f"kw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@dataclass
class Setup:
    """Builds a configuration file for the servers of one test and the app on it."""

    tmp_path: Path
    db_url: str
    dovecot: Dovecot | None = None
    smtp: SmtpSink | None = None
    mailboxes: list[dict[str, Any]] = field(default_factory=list)
    extra: str = ""
    imap_port: int | None = None
    #: Under [ingest]: tests of the flow read mail that is already in the mailbox as new (no history, no age guard).
    going_live: str = "start = 2000-01-01\nmax_age_days = 0"

    def mailbox(self, name: str, user: str, role: str = "wethouder", folders: tuple[str, ...] = ("INBOX",), **more: Any) -> None:
        self.mailboxes.append({"name": name, "user": user, "role": role, "folders": folders, **more})

    def toml(self) -> str:
        smtp_port = self.smtp.port if self.smtp else 2525
        lines = [
            "[database]",
            f'url = "{self.db_url}"',
            "[broker]",
            'url = "memory://"',
            "[smtp]",
            'host = "127.0.0.1"',
            f"port = {smtp_port}",
            'sender = "klachten@gemeente-veenstad.nl"',
            "[ingest]",
            "wait_timeout = 120",
            self.going_live,
            self.extra,
        ]
        if "[[organisations]]" not in self.extra:
            lines += [
                "[[organisations]]",
                'name = "default"',
                'display_name = "Gemeente Veenstad"',
                'complaints_address = "klachtencoordinator@gemeente-veenstad.nl"',
                'bezwaar_address = "bezwaar@gemeente-veenstad.nl"',
                'woo_address = "woo@gemeente-veenstad.nl"',
            ]
        port = self.imap_port or (self.dovecot.port if self.dovecot else 143)
        for box in self.mailboxes:
            folders = ", ".join(f'"{f}"' for f in box["folders"])
            lines += [
                "[[mailboxes]]",
                f'name = "{box["name"]}"',
                f'role = "{box["role"]}"',
                f'address = "{box["user"]}@gemeente-veenstad.nl"',
                f"folders = [{folders}]",
            ]
            if "secretary" in box:
                lines.append(f'secretary = "{box["secretary"]}"')
            if "organisation" in box:
                lines.append(f'organisation = "{box["organisation"]}"')
            if "poll_interval" in box:
                lines.append(f"poll_interval = {box['poll_interval']}")
            for key in ("start", "mode", "max_age_days"):
                if key in box:
                    lines.append(f"{key} = {box[key]!r}".replace("'", '"') if isinstance(box[key], str) else f"{key} = {box[key]}")
            if "idle" in box:
                lines.append(f"idle = {'true' if box['idle'] else 'false'}")
            if box.get("canary"):
                lines.append("canary = true")
            lines += [
                "[mailboxes.imap]",
                'host = "127.0.0.1"',
                f"port = {box.get('port', port)}",
                'security = "none"',
                f'username = "{box["user"]}"',
                'password_env = "KW_TEST_PASSWORD"',
                "connect_timeout = 5",
                "read_timeout = 10",
            ]
        return "\n".join(lines) + "\n"

    def write(self) -> Path:
        path = self.tmp_path / "klachtwacht.toml"
        path.write_text(self.toml(), encoding="utf-8")
        return path

    def config(self) -> Any:
        from klachtwacht.config import load_config

        return load_config(self.write(), env={**os.environ, "KW_TEST_PASSWORD": PASSWORD})

    def app(self, classifier: Any) -> Any:
        from ingest.backoff import Backoff
        from klachtwacht.runtime import App
        from klachtwacht.wiring import build_services

        config = self.config()
        app = App(config, build_services(config, classifier), backoff=Backoff(base=0.05, cap=0.5, attempts=5), min_retry_backoff_ms=50)
        app.upgrade_schema()
        return app
