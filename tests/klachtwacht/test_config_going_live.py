"""The going-live keys: start, max_age_days and mode under [ingest], per organisation and per mailbox; bad values named."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support.cli import klachtwacht

from klachtwacht.config import parse_config
from klachtwacht.errors import ConfigError

PATH = "/etc/klachtwacht/gemeente.toml"
ENV = {"KW_IMAP_PASSWORD": "x"}


def _mailbox(**extra: Any) -> dict[str, Any]:
    return {"name": "wethouder-jansen", "role": "wethouder", "address": "jansen@gemeente.example", "organisation": "utrecht",
            "imap": {"host": "imap.gemeente.example", "username": "jansen", "password_env": "KW_IMAP_PASSWORD"}, **extra}


def _doc(ingest: dict[str, Any] | None = None, org: dict[str, Any] | None = None, **box: Any) -> dict[str, Any]:
    return {"ingest": ingest or {}, "organisations": [{"name": "utrecht", "display_name": "Gemeente Utrecht", **(org or {})}],
            "mailboxes": [_mailbox(**box)]}


def _error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(data, PATH, env=ENV)
    assert PATH in str(info.value) and info.value.key in str(info.value)
    return info.value


def test_the_defaults_are_first_poll_a_fortnight_and_auto() -> None:
    config = parse_config(_doc(), PATH, env=ENV)
    live = config.going_live(config.mailboxes[0])
    assert (live.start, live.max_age_days, live.mode) == (None, 14, "auto")


def test_a_mailbox_overrides_its_organisation_which_overrides_ingest() -> None:
    config = parse_config(_doc({"mode": "auto", "start": date(2026, 1, 5), "max_age_days": 30}, {"mode": "shadow"}), PATH, env=ENV)
    assert config.going_live(config.mailboxes[0]).mode == "shadow"
    config = parse_config(_doc({"start": "2026-01-05"}, {"mode": "shadow"}, mode="confirm", start="first-poll", max_age_days=0), PATH, env=ENV)
    live = config.going_live(config.mailboxes[0])
    assert (live.mode, live.start, live.max_age_days) == ("confirm", None, None)


def test_a_start_in_the_future_is_refused_with_its_key() -> None:
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=2)
    error = _error(_doc(start=tomorrow))
    assert error.key == "mailboxes[0].start" and "in the future" in str(error)
    assert _error(_doc({"start": tomorrow.isoformat()})).key == "ingest.start"


def test_an_unparsable_start_is_refused_with_its_key() -> None:
    error = _error(_doc({"start": "vorige week"}))
    assert error.key == "ingest.start" and "first-poll" in str(error) and "'vorige week'" in str(error)
    assert _error(_doc(start=20260105)).key == "mailboxes[0].start"


def test_an_unknown_mode_is_refused_with_its_key() -> None:
    assert "shadow, confirm, auto" in str(_error(_doc({"mode": "pilot"})))
    assert _error(_doc(org={"mode": "test"})).key == "organisations[0].mode"
    assert _error(_doc(mode="live")).key == "mailboxes[0].mode"
    assert _error(_doc({"max_age_days": -1})).key == "ingest.max_age_days"


def test_the_command_line_says_which_key_is_wrong_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "klachtwacht.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "kw.db"}"\n[ingest]\nmode = "schaduw"\n', encoding="utf-8")
    run = klachtwacht("db", "upgrade", "--config", str(path), cwd=tmp_path)
    assert run.status == 2 and run.lines == [f"configuration error: {path}: ingest.mode: must be one of shadow, confirm, auto, not 'schaduw'"]
    assert not (tmp_path / "kw.db").exists()  # nothing half-done
