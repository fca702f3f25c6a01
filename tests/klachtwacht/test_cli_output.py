"""What the command writes: a pipe closed early ends quietly; global options anywhere; JSON log lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert
from support.cli import REPO, klachtwacht, toml_config

from klachtwacht.cli import main
from klachtwacht.db.models import Message, RawBlob


def _many_messages(tmp_path: Path, count: int) -> Path:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    config = tmp_path / "klachtwacht.toml"
    config.write_text(toml_config(database=url), encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    engine = create_engine(url)
    now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(RawBlob), [{"sha256": "0" * 64, "size": 1, "data": b"x", "stored_at": now}])
        conn.execute(insert(Message), [
            {"identity": f"mid:<m{i}@example.nl>", "message_id": f"<m{i}@example.nl>", "blob_sha256": "0" * 64, "received_at": now,
             "state": "done", "state_changed_at": now, "attempts": 0, "created_at": now}
            for i in range(count)
        ])
    engine.dispose()
    return config


def test_a_pipe_closed_early_ends_messages_list_quietly(tmp_path: Path) -> None:
    config = _many_messages(tmp_path, 4000)  # far more than a pipe buffer holds
    env = {k: v for k, v in os.environ.items() if k != "KLACHTWACHT_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen([sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "messages", "list"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    status = proc.wait(timeout=120)
    assert b"<m0@example.nl>" in first
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert status == 0


def test_log_format_json_writes_one_object_per_line(tmp_path: Path) -> None:
    config = tmp_path / "klachtwacht.toml"
    config.write_text(toml_config(database=f"sqlite:///{tmp_path / 'kw.db'}"), encoding="utf-8")
    run = klachtwacht("db", "upgrade", "--config", str(config), "--log-format", "json", "--debug", cwd=tmp_path)
    assert run.status == 0, run.err
    lines = [json.loads(line) for line in run.err.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)
