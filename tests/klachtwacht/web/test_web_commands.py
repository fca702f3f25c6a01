"""``klachtwacht users`` and ``klachtwacht serve``, the ``[web]`` configuration, and the app's files in the package."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from support.cli import REPO
from support.services import free_port

from klachtwacht.config import WebConfig, parse_config
from klachtwacht.errors import ConfigError

TOML = """
[database]
url = "sqlite:///{db}"
[web]
port = {port}
[[mailboxes]]
name = "wethouder-devries"
role = "wethouder"
address = "wethouder@gemeente-veenstad.nl"
[mailboxes.imap]
host = "127.0.0.1"
username = "wethouder"
password_env = "KW_PW"
"""
MAILBOX = {"name": "w", "role": "wethouder", "address": "w@gemeente.example", "imap": {"host": "h", "username": "u", "password_env": "KW_PW"}}


def _config(tmp_path: Path, port: int = 8000) -> Path:
    path = tmp_path / "klachtwacht.toml"
    path.write_text(TOML.format(db=tmp_path / "kw.db", port=port), encoding="utf-8")
    return path


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KW_PW": "x"}
    env.pop("KLACHTWACHT_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "klachtwacht.cli", "--config", str(_config(tmp_path)), *args], input=stdin, cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)


def test_users_add_reads_the_password_from_standard_input_and_list_and_disable_show_it(tmp_path: Path) -> None:
    added = _run(tmp_path, "users", "add", "ria", "--role", "secretaris", "--mailbox", "wethouder-devries", stdin="een-lang-wachtwoord\n")
    assert added.returncode == 0, added.stderr
    assert "een-lang-wachtwoord" not in added.stdout + added.stderr
    coordinator = _run(tmp_path, "users", "add", "karin", "--role", "coordinator", stdin="nog-een-lang-wachtwoord\n")
    assert coordinator.returncode == 0, coordinator.stderr
    listed = [json.loads(line) for line in _run(tmp_path, "users", "list", "--json").stdout.splitlines()]
    assert [(u["name"], u["role"], u["mailboxes"], u["disabled"]) for u in listed] == [
        ("karin", "coordinator", [], False), ("ria", "secretaris", ["wethouder-devries"], False)]
    assert listed[0]["organisation"] == "default"
    assert _run(tmp_path, "users", "disable", "ria").returncode == 0
    assert [u["disabled"] for u in map(json.loads, _run(tmp_path, "users", "list", "--json").stdout.splitlines())] == [False, True]


@pytest.mark.parametrize("args, stdin, says", [
    (("users", "add", "ria", "--role", "secretaris", "--mailbox", "onbekend"), "een-lang-wachtwoord\n", "no mailbox 'onbekend'"),
    (("users", "add", "ria", "--role", "secretaris"), "een-lang-wachtwoord\n", "needs at least one --mailbox"),
    (("users", "add", "ria", "--role", "beheerder"), "kort\n", "at least 10 characters"),
])
def test_users_add_refuses_what_cannot_work_with_one_line(tmp_path: Path, args: tuple[str, ...], stdin: str, says: str) -> None:
    run = _run(tmp_path, *args, stdin=stdin)
    assert run.returncode == 2 and says in run.stderr


def test_serve_answers_healthz_and_the_login_form_on_the_configured_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "KW_PW": "x"}
    env.pop("KLACHTWACHT_CONFIG", None)
    server = subprocess.Popen([sys.executable, "-m", "klachtwacht.cli", "--config", str(_config(tmp_path, port)), "serve"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.3)
        assert health.status_code == 200
        login = httpx.get(f"http://127.0.0.1:{port}/login")
        assert 'name="username"' in login.text and login.headers["referrer-policy"] == "no-referrer"
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_web_section_has_documented_defaults() -> None:
    config = parse_config({"mailboxes": [MAILBOX]}, "k.toml", env={"KW_PW": "x"})
    assert config.web == WebConfig()
    assert (config.web.host, config.web.port, config.web.session_idle_minutes, config.web.lockout_after) == ("127.0.0.1", 8000, 30, 5)
    assert config.web.single_key_shortcuts is True and config.web.theme_class == "voorbeeld-theme"


@pytest.mark.parametrize("web, key", [
    ({"port": 0}, "web.port"),
    ({"session_idle_minutes": 0}, "web.session_idle_minutes"),
    ({"theme_stylesheet": "http://cdn.example/theme.css"}, "web.theme_stylesheet"),
    ({"theme_class": "x\" onload=\"y"}, "web.theme_class"),
    ({"max_request_bytes": 100}, "web.max_request_bytes"),
    ({"single_key_shortcuts": "nee"}, "web.single_key_shortcuts"),
    ({"colour": "red"}, "web.colour"),
])
def test_a_wrong_web_key_is_named(web: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"mailboxes": [MAILBOX], "web": web}, "k.toml", env={"KW_PW": "x"})
    assert caught.value.key == key


def test_a_municipal_theme_from_https_is_allowed_by_the_csp_as_a_style_source_only() -> None:
    from klachtwacht.web.csp import app_policy

    policy = app_policy("https://huisstijl.gemeente.example/theme.css")
    assert "style-src 'self' https://huisstijl.gemeente.example" in policy
    assert "script-src 'self';" in policy


def test_every_template_and_static_file_is_package_data() -> None:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    patterns = data["klachtwacht"] + data["*"]
    root = REPO / "klachtwacht"
    files = [p for p in (root / "web" / "static").rglob("*") if p.is_file()] + list((root / "web" / "templates").glob("*"))
    assert files
    for path in files:
        relative = path.relative_to(root).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern) for pattern in patterns), relative


def test_the_vendored_css_keeps_its_licences_and_never_ships_utrechts_own_brand() -> None:
    vendor = REPO / "klachtwacht" / "web" / "static" / "vendor"
    for package in ("utrecht-component-library-css", "voorbeeld-design-tokens"):
        assert "EUPL" in (vendor / package / "LICENSE.md").read_text(encoding="utf-8")
    assert not re.search(r"@utrecht/design-tokens", (vendor / "VERSIONS").read_text(encoding="utf-8"))
    assert not any("design-tokens" in p.name and "voorbeeld" not in p.name for p in vendor.iterdir())



