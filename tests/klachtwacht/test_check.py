"""``klachtwacht check`` against a healthy set-up (Dovecot, an SMTP server with STARTTLS and AUTH,
PostgreSQL, Redis, a ZGW API) and against each broken part of it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.cli import klachtwacht
from support.dovecot import Dovecot
from support.services import free_port, require
from support.smtp import SmtpSink
from support.zgw_server import ZgwServer, _Answer

from klachtwacht.check import FAIL, OK, CheckResult, run_checks
from klachtwacht.cli import main
from klachtwacht.config import load_config

pytestmark = pytest.mark.dovecot

IMAP_PASSWORD = "geheim-wachtwoord"
SMTP_USER, SMTP_PASSWORD = "klachtwacht", "smtp-geheim"
ZGW_SECRET = "zgw-test-secret-for-hs256-tokens"


class CatalogueZgw(ZgwServer):
    """The test API, plus the one Catalogi call the check makes: GET of the zaaktype."""

    concept = False

    def answer(self, method: str, target: str, headers: Any, raw: bytes) -> _Answer | None:
        if method == "GET" and target.startswith("/catalogi/api/v1/zaaktypen/"):
            if self.down is not None:
                return _Answer(self.down[0], {"detail": "down"}, fault=True, validate=False)
            url = self.base_url + target
            if url != self.catalogue("zaaktypen"):
                return _Answer(404, {"detail": "Niet gevonden."}, validate=False)
            return _Answer(200, {"url": url, "omschrijving": "Klacht", "concept": self.concept,
                                 "catalogus": self.base_url + "/catalogi/api/v1/catalogussen/1"}, validate=False)
        return super().answer(method, target, headers, raw)


@dataclass
class Parts:
    tmp_path: Path
    dovecot: Dovecot
    smtp: SmtpSink
    zgw: CatalogueZgw
    db_url: str
    broker: str = "redis://127.0.0.1:6379/0"

    def toml(self) -> str:
        register = "\n".join(f"{k} = {json.dumps(v)}" for k, v in self.zgw.register_options().items())
        return f"""
[database]
url = "{self.db_url}"
[broker]
url = "{self.broker}"
[smtp]
host = "localhost"
port = {self.smtp.port}
sender = "klachten@gemeente-veenstad.nl"
security = "starttls"
username = "{SMTP_USER}"
password_env = "KW_SMTP_PASSWORD"
ca_file = "{self.smtp.cafile}"
[register]
backend = "zgw"
{register}
[[organisations]]
name = "veenstad"
display_name = "Gemeente Veenstad"
[[mailboxes]]
name = "wethouder-devries"
role = "wethouder"
address = "wethouder@gemeente-veenstad.nl"
organisation = "veenstad"
folders = ["INBOX", "Klachten"]
[mailboxes.imap]
host = "127.0.0.1"
port = {self.dovecot.port}
security = "none"
username = "wethouder"
password_env = "KW_TEST_PASSWORD"
connect_timeout = 5
"""

    def write(self, text: str | None = None) -> Path:
        path = self.tmp_path / "klachtwacht.toml"
        path.write_text(text or self.toml(), encoding="utf-8")
        return path

    def check(self, text: str | None = None, **env: str) -> dict[str, CheckResult]:
        environment = {**os.environ, **self.env(), **env}
        config = load_config(self.write(text), env=environment, secrets=False)
        with pytest.MonkeyPatch.context() as patch:  # the ZGW check reads its secret from the process's environment
            for key, value in env.items():
                patch.setenv(key, value)
            results = run_checks(config)
        names = [r.name for r in results]
        assert len(names) == len(set(names)), names
        return {r.name: r for r in results}

    def env(self) -> dict[str, str]:
        return {"KW_TEST_PASSWORD": IMAP_PASSWORD, "KW_SMTP_PASSWORD": SMTP_PASSWORD, "KW_ZGW_SECRET": ZGW_SECRET}


@pytest.fixture
def parts(tmp_path: Path, db_url: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Iterator[Parts]:
    require("127.0.0.1", 6379, "Redis")
    with dovecot.client("wethouder") as client:
        client.create_folder("Klachten")
    dovecot.append("wethouder", "INBOX", b"From: a@example.nl\r\nSubject: x\r\n\r\nhallo\r\n")
    with SmtpSink(starttls=True, require_starttls=True, auth=(SMTP_USER, SMTP_PASSWORD)) as smtp, CatalogueZgw() as zgw:
        found = Parts(tmp_path, dovecot, smtp, zgw, db_url)
        for key, value in found.env().items():
            monkeypatch.setenv(key, value)
        assert main(["--config", str(found.write()), "db", "upgrade"]) == 0
        yield found


def statuses(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.status for name, r in results.items()}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_healthy_set_up_passes_every_check_and_exits_0(parts: Parts) -> None:
    run = klachtwacht("--config", str(parts.write()), "check", cwd=parts.tmp_path, env=parts.env())
    assert run.status == 0, run.out + run.err
    for name in ("configuration", "database", "broker", "smtp", "mailbox wethouder-devries", "mailbox wethouder-devries INBOX",
                 "mailbox wethouder-devries Klachten", "register zaaktype", "register zaken api", "register documenten api", "model",
                 "templates veenstad"):
        line = next((row for row in run.out.splitlines() if row.startswith(name + " ")), None)
        assert line is not None and " OK " in line, (name, run.out)
    assert "STARTTLS" in run.out and f"login as {SMTP_USER}" in run.out and "nothing sent" in run.out
    assert "schema at" in run.out and "(latest)" in run.out and "IDLE yes" in run.out
    assert parts.smtp.messages == []  # nothing was sent
    assert parts.zgw.posts() == []  # nothing was created


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_check_json_is_one_object_for_monitoring(parts: Parts) -> None:
    run = klachtwacht("--config", str(parts.write()), "check", "--json", cwd=parts.tmp_path, env=parts.env())
    report = json.loads(run.out)
    assert run.status == 0 and report["ok"] is True
    assert {c["status"] for c in report["checks"]} <= {"ok", "warn"}
    inbox = next(c for c in report["checks"] if c["name"] == "mailbox wethouder-devries INBOX")
    assert inbox["detail"].startswith("1 messages")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_broken_part_fails_its_own_line_and_the_command_exits_1(parts: Parts) -> None:
    text = parts.toml().replace(f"port = {parts.dovecot.port}", f"port = {free_port()}")
    run = klachtwacht("--config", str(parts.write(text)), "check", cwd=parts.tmp_path, env=parts.env())
    assert run.status == 1
    failed = [line for line in run.out.splitlines() if " FAIL " in line]
    assert len(failed) == 1 and failed[0].startswith("mailbox wethouder-devries ")
    assert "1 failed" in run.out
    assert "Traceback" not in run.err


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_database_without_the_schema_says_run_db_upgrade(parts: Parts) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(parts.db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    engine.dispose()
    result = parts.check()["database"]
    assert result.status == FAIL and "klachtwacht db upgrade" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_that_cannot_be_reached_fails_naming_database_url(parts: Parts) -> None:
    port = free_port()
    result = parts.check(parts.toml().replace(parts.db_url, f"postgresql+psycopg://postgres@127.0.0.1:{port}/kw"))["database"]
    assert result.status == FAIL and "database.url" in result.detail and f"127.0.0.1:{port}" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_broker_that_is_down_fails_naming_broker_url(parts: Parts) -> None:
    port = free_port()
    result = parts.check(parts.toml().replace("6379", str(port)))["broker"]
    assert result.status == FAIL and "broker.url" in result.detail and f"127.0.0.1:{port}" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_smtp_password_that_is_refused_fails_naming_smtp_username(parts: Parts) -> None:
    result = parts.check(KW_SMTP_PASSWORD="verkeerd")["smtp"]
    assert result.status == FAIL and "smtp.username" in result.detail and "refused the login" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_smtp_server_that_is_down_fails_naming_smtp_host(parts: Parts) -> None:
    port = free_port()
    result = parts.check(parts.toml().replace(f"port = {parts.smtp.port}", f"port = {port}"))["smtp"]
    assert result.status == FAIL and "smtp.host" in result.detail and f":{port}" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_wrong_imap_password_fails_the_mailbox_and_says_what_to_check(parts: Parts) -> None:
    result = parts.check(KW_TEST_PASSWORD="verkeerd")["mailbox wethouder-devries"]
    assert result.status == FAIL and "mailboxes[0].imap" in result.detail and "password_env" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_unset_imap_password_fails_the_mailbox_naming_the_variable(parts: Parts) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "KW_TEST_PASSWORD"}
    config = load_config(parts.write(), env=environment, secrets=False)
    result = {r.name: r for r in run_checks(config)}["mailbox wethouder-devries"]
    assert result.status == FAIL and "KW_TEST_PASSWORD is not set" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_folder_that_does_not_exist_fails_its_own_line(parts: Parts) -> None:
    results = parts.check(parts.toml().replace('"Klachten"', '"Bestaat-niet"'))
    assert results["mailbox wethouder-devries"].status == OK
    assert results["mailbox wethouder-devries INBOX"].status == OK
    missing = results["mailbox wethouder-devries Bestaat-niet"]
    assert missing.status == FAIL and "mailboxes[0].folders" in missing.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_zgw_api_that_is_down_fails_the_register_lines(parts: Parts) -> None:
    parts.zgw.fail_with(503)
    results = parts.check()
    for name in ("register zaaktype", "register zaken api", "register documenten api"):
        assert results[name].status == FAIL, results[name]
    assert "register.zaken_url" in results["register zaken api"].detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_zaaktype_that_does_not_exist_or_is_a_concept_fails(parts: Parts) -> None:
    wrong = parts.toml().replace(parts.zgw.catalogue("zaaktypen"), parts.zgw.base_url + "/catalogi/api/v1/zaaktypen/onbekend")
    assert "does not exist" in parts.check(wrong)["register zaaktype"].detail
    parts.zgw.concept = True
    result = parts.check()["register zaaktype"]
    assert result.status == FAIL and "concept" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_wrong_zgw_secret_fails_the_dry_requests(parts: Parts) -> None:
    results = parts.check(KW_ZGW_SECRET="een-ander-geheim-van-minstens-32-tekens")
    assert results["register zaken api"].status == FAIL
    assert results["register documenten api"].status == FAIL


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_model_that_cannot_be_loaded_fails_naming_classifier_model(parts: Parts, tmp_path: Path) -> None:
    text = parts.toml().replace("[register]", f'[classifier]\nmodel = "{tmp_path / "geen-model"}"\n[register]')
    result = parts.check(text)["model"]
    assert result.status == FAIL and "classifier.model" in result.detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_broken_template_fails_its_organisation(parts: Parts, tmp_path: Path) -> None:
    folder = tmp_path / "sjablonen"
    folder.mkdir()
    (folder / "sender_klacht.txt.jinja").write_text("Onderwerp {{ nummer_dat_niet_bestaat }}\n\nTekst\n", encoding="utf-8")
    text = parts.toml().replace('display_name = "Gemeente Veenstad"', f'display_name = "Gemeente Veenstad"\ntemplates = "{folder}"')
    result = parts.check(text)["templates veenstad"]
    assert result.status == FAIL and "sender_klacht" in result.detail


def test_a_configuration_that_cannot_be_read_is_one_failing_check(tmp_path: Path) -> None:
    path = tmp_path / "klachtwacht.toml"
    path.write_text("[smtp]\nprot = 25\n", encoding="utf-8")
    run = klachtwacht("--config", str(path), "check", "--json", cwd=tmp_path)
    assert run.status == 1
    report = json.loads(run.out)
    assert report["ok"] is False and [c["name"] for c in report["checks"]] == ["configuration"]
    assert "smtp.prot" in report["checks"][0]["detail"]
