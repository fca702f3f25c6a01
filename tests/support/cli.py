"""Running ``klachtwacht`` as an operator does: a subprocess, its exit status, its lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPO", "Run", "klachtwacht", "toml_config"]

REPO = Path(__file__).resolve().parents[2]
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


@dataclass
class Run:
    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """The lines of standard error that are not log lines: what the command itself says."""
        return [line for line in self.err.splitlines() if line.strip() and not _LOG_LINE.match(line)]

    @property
    def log_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if _LOG_LINE.match(line)]


def klachtwacht(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """Run ``python -m klachtwacht.cli ARGS`` from this checkout, in ``cwd``."""
    environment = {k: v for k, v in os.environ.items() if k != "KLACHTWACHT_CONFIG"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    environment["KLACHTWACHT_PROGRESS"] = "plain"
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "klachtwacht.cli", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )
    return Run(done.returncode, done.stdout, done.stderr)


def toml_config(
    *,
    database: str,
    broker: str = "memory://",
    smtp_port: int = 2525,
    imap_port: int = 143,
    mailboxes: tuple[str, ...] = ("wethouder",),
    extra: str = "",
    folders: tuple[str, ...] = ("INBOX",),
) -> str:
    """A small configuration: one organisation, mailboxes on 127.0.0.1 with password_env KW_TEST_PASSWORD."""
    lines = [
        "[database]", f'url = "{database}"',
        "[broker]", f'url = "{broker}"',
        "[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'sender = "klachten@gemeente-veenstad.nl"',
        "[ingest]", "wait_timeout = 60", "start = 2000-01-01", "max_age_days = 0",
        extra,
        "[[organisations]]", 'name = "default"', 'display_name = "Gemeente Veenstad"',
        'complaints_address = "klachtencoordinator@gemeente-veenstad.nl"', 'bezwaar_address = "bezwaar@gemeente-veenstad.nl"',
        'woo_address = "woo@gemeente-veenstad.nl"',
    ]
    for user in mailboxes:
        lines += [
            "[[mailboxes]]", f'name = "{user}"', 'role = "wethouder"', f'address = "{user}@gemeente-veenstad.nl"',
            "folders = [" + ", ".join(f'"{f}"' for f in folders) + "]",
            "[mailboxes.imap]", 'host = "127.0.0.1"', f"port = {imap_port}", 'security = "none"', f'username = "{user}"',
            'password_env = "KW_TEST_PASSWORD"', "connect_timeout = 5", "read_timeout = 10",
        ]
    return "\n".join(lines) + "\n"
