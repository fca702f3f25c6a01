"""Outages during a pass, as the operator sees them: the database going away, the mail server refusing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.cli import REPO, Run, klachtwacht, toml_config
from support.mail import mails
from support.postgres import ThrowawayPostgres

pytestmark = pytest.mark.dovecot


def _stored(progress_line: str) -> int:
    """N of a progress line "ingest pass: ..., N new messages stored", else 0."""
    found = re.search(r"ingest pass: .*?(\d+) new messages stored", progress_line)
    return int(found.group(1)) if found else 0


def test_a_database_that_goes_away_mid_pass_ends_ingest_with_one_line_and_what_was_done(
    tmp_path: Path, dovecot: Any, smtp: Any
) -> None:
    dovecot.fast_fill("wethouder", "INBOX", [raw for _, raw in mails(1500, seed=11)])
    with ThrowawayPostgres() as pg:
        config = tmp_path / "klachtwacht.toml"
        config.write_text(toml_config(database=pg.url, smtp_port=smtp.port, imap_port=dovecot.port, extra="batch_size = 50"), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "KLACHTWACHT_CONFIG"}
        env.update(PYTHONPATH=str(REPO), KW_TEST_PASSWORD="geheim-wachtwoord", KLACHTWACHT_PROGRESS="plain", KLACHTWACHT_PROGRESS_EVERY="0.2")
        proc = subprocess.Popen(
            [sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "ingest", "--once"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert proc.stderr is not None and proc.stdout is not None
        err_lines: list[str] = []
        try:
            for line in proc.stderr:  # wait until the command itself reports stored messages
                err_lines.append(line)
                if _stored(line) >= 50:
                    break
            assert proc.poll() is None, "the pass ended before the database could be taken away"
            pg.stop()
            out, rest = proc.communicate(timeout=300)
            err = "".join(err_lines) + rest
        finally:
            if proc.poll() is None:
                proc.kill()
    run = Run(proc.returncode, out, err)
    assert run.status == 1, err
    assert "Traceback" not in err
    lines = run.lines
    lines = [line for line in lines if not line.startswith("ingest pass:")]
    assert len(lines) == 2, err
    assert "database.url" in lines[0] and f"127.0.0.1:{pg.port}" in lines[0] and "went away during the pass" in lines[0]
    assert lines[1].startswith("before that: ") and "new messages were stored" in lines[1]
    stored = int(lines[1].split("before that: ")[1].split()[0])
    assert stored > 0
    assert all(len(line) < 400 for line in run.log_lines), "a log line dumps SQL or a traceback"


def test_messages_list_tells_why_a_message_waits_during_an_smtp_outage(tmp_path: Path, dovecot: Any, smtp: Any) -> None:
    from support.mail import make_mail

    dovecot.append("wethouder", "INBOX", make_mail(
        subject="Onbeschofte behandeling aan de balie",
        body="De medewerker aan de balie was onbeschoft en grof tegen mij. Ik heb al drie keer gebeld en niemand belt terug. Dit is schandalig.",
        message_id="<wacht@example.nl>",
    ))
    smtp.fail_with(451, stage="MAIL")  # the server answers, but defers every letter
    config = tmp_path / "klachtwacht.toml"
    text = toml_config(database=f"sqlite:///{tmp_path / 'kw.db'}", smtp_port=smtp.port, imap_port=dovecot.port).replace("wait_timeout = 60", "wait_timeout = 8")
    config.write_text(text, encoding="utf-8")
    env = {"KW_TEST_PASSWORD": "geheim-wachtwoord"}
    ingest = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env=env)
    assert ingest.status == 1, ingest.err
    assert "Traceback" not in ingest.err
    retries = [line for line in ingest.log_lines if "next attempt in" in line]
    assert retries and all("message 1:" in line and "451" in line for line in retries), ingest.err
    listing = klachtwacht("--config", str(config), "messages", "list", cwd=tmp_path)
    assert listing.status == 0, listing.err
    lines = listing.out.splitlines()
    assert "<wacht@example.nl>" in lines[0] and "done" not in lines[0]
    why = lines[1]
    assert "waits for" in why and "failed attempts" in why and "451" in why and "next attempt" in why
