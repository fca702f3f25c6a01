"""Each expected failure as the operator meets it: the command's exit status and its one line, no traceback.

Every test runs ``klachtwacht`` as a subprocess. Exit status 2: it could not
run; 1: it ran in part. The line names the configuration key, the address or
path, and what to do; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.cli import klachtwacht, toml_config
from support.services import free_port, require

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def write(tmp_path: Path, text: str, name: str = "klachtwacht.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'klachtwacht.db'}"


def assert_one_line(run: object, *words: str) -> str:
    lines = run.lines  # type: ignore[attr-defined]
    assert len(lines) == 1, run.err  # type: ignore[attr-defined]
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in run.err  # type: ignore[attr-defined]
    return str(lines[0])


# --- the database -----------------------------------------------------------------


def test_a_sqlite_folder_that_does_not_exist_is_named_with_its_key_and_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "weg"
    config = write(tmp_path, toml_config(database=f"sqlite:///{missing / 'kw.db'}"))
    run = klachtwacht("--config", str(config), "messages", "list", cwd=tmp_path)
    assert run.status == 2
    assert_one_line(run, "database.url", str(missing), "does not exist", "create it")


def test_the_traceback_of_a_failure_is_shown_only_with_debug(tmp_path: Path) -> None:
    config = write(tmp_path, toml_config(database=f"sqlite:///{tmp_path / 'weg' / 'kw.db'}"))
    run = klachtwacht("--config", str(config), "messages", "list", "--debug", cwd=tmp_path)
    assert run.status == 2
    assert "Traceback" in run.err
    assert "database.url" in run.err.strip().splitlines()[-1]


def test_postgresql_that_is_down_is_named_with_host_and_port_and_exits_2(tmp_path: Path) -> None:
    port = free_port()
    config = write(tmp_path, toml_config(database=f"postgresql+psycopg://postgres@127.0.0.1:{port}/kw"))
    run = klachtwacht("--config", str(config), "register", "list", cwd=tmp_path)
    assert run.status == 2
    assert_one_line(run, "database.url", f"127.0.0.1:{port}", "refuses connections", "start it")


def test_a_postgresql_database_that_does_not_exist_says_how_to_create_it(tmp_path: Path) -> None:
    require("127.0.0.1", 5432, "PostgreSQL")
    name = f"kw_missing_{uuid.uuid4().hex[:8]}"
    config = write(tmp_path, toml_config(database=f"{PG}/{name}"))
    run = klachtwacht("--config", str(config), "db", "upgrade", cwd=tmp_path)
    assert run.status == 2
    assert_one_line(run, "database.url", name, f"createdb {name}")


def test_a_postgresql_user_that_is_refused_is_named(tmp_path: Path) -> None:
    require("127.0.0.1", 5432, "PostgreSQL")
    config = write(tmp_path, toml_config(database="postgresql+psycopg://kw_no_such_role@127.0.0.1:5432/postgres"))
    run = klachtwacht("--config", str(config), "messages", "list", cwd=tmp_path)
    assert run.status == 2
    assert_one_line(run, "database.url", "kw_no_such_role", "check the user and password")


# --- servers a pass needs: told before anything is fetched -------------------------------


def test_an_unreachable_broker_stops_ingest_before_fetching_naming_broker_url(tmp_path: Path, smtp: object) -> None:
    port = free_port()
    config = write(tmp_path, toml_config(database=sqlite(tmp_path), broker=f"redis://127.0.0.1:{port}/0", smtp_port=smtp.port))  # type: ignore[attr-defined]
    run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env={"KW_TEST_PASSWORD": "x"})
    assert run.status == 2
    assert_one_line(run, "broker.url", f"Redis at 127.0.0.1:{port}", "refuses connections", "nothing was fetched")


def test_an_smtp_server_that_refuses_connections_stops_ingest_naming_smtp_host(tmp_path: Path) -> None:
    port = free_port()
    config = write(tmp_path, toml_config(database=sqlite(tmp_path), smtp_port=port))
    run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env={"KW_TEST_PASSWORD": "x"})
    assert run.status == 2
    assert_one_line(run, "smtp.host", f"127.0.0.1:{port}", "refuses connections", "nothing was fetched")


def test_an_unreachable_zgw_register_stops_ingest_naming_its_url(tmp_path: Path, smtp: object) -> None:
    port = free_port()
    register = "\n".join([
        "[register]", 'backend = "zgw"', f'zaken_url = "http://127.0.0.1:{port}/zaken/api/v1"',
        f'documenten_url = "http://127.0.0.1:{port}/documenten/api/v1"', 'client_id = "kw"', 'secret_env = "KW_ZGW_SECRET"',
        f'zaaktype = "http://127.0.0.1:{port}/catalogi/api/v1/zaaktypen/1"',
        f'informatieobjecttype = "http://127.0.0.1:{port}/catalogi/api/v1/informatieobjecttypen/1"',
        f'roltype = "http://127.0.0.1:{port}/catalogi/api/v1/roltypen/1"', 'bronorganisatie = "002220647"', "timeout = 3",
    ])
    config = write(tmp_path, toml_config(database=sqlite(tmp_path), smtp_port=smtp.port, extra=register))  # type: ignore[attr-defined]
    run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env={"KW_TEST_PASSWORD": "x", "KW_ZGW_SECRET": "a-secret-of-at-least-thirty-two-bytes"})
    assert run.status == 2
    lines = run.lines
    assert lines and all("nothing was fetched" in line for line in lines)
    assert any("register.zaken_url" in line and f"127.0.0.1:{port}" in line for line in lines), run.err
    assert "Traceback" not in run.err


# --- the mailboxes: a partial pass, bounded ---------------------------------------


@pytest.mark.dovecot
def test_an_unreachable_imap_server_is_tried_three_times_then_reported_and_the_pass_ends_1(tmp_path: Path, smtp: object) -> None:
    port = free_port()
    config = write(tmp_path, toml_config(database=sqlite(tmp_path), smtp_port=smtp.port, imap_port=port))  # type: ignore[attr-defined]
    run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env={"KW_TEST_PASSWORD": "x"})
    assert run.status == 1
    assert "Traceback" not in run.err
    assert "tried 3 times" in run.err  # it says what it is doing before it waits
    retries = [line for line in run.log_lines if "reconnecting in" in line]
    assert len(retries) == 2, run.err  # three tries, two waits between them, no more
    assert "wethouder: 0 fetched" in run.out
    assert f"ERRORS: mailboxes[0].imap: the IMAP server at 127.0.0.1:{port} refuses connections; check host, port" in run.out


@pytest.mark.dovecot
def test_a_wrong_imap_password_is_reported_for_that_mailbox_and_the_pass_ends_1(tmp_path: Path, smtp: object, dovecot: object) -> None:
    config = write(tmp_path, toml_config(database=sqlite(tmp_path), smtp_port=smtp.port, imap_port=dovecot.port))  # type: ignore[attr-defined]
    run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env={"KW_TEST_PASSWORD": "niet-het-wachtwoord"})
    assert run.status == 1
    assert "Traceback" not in run.err
    assert "mailboxes[0].imap: the IMAP server at 127.0.0.1" in run.out and "refused the login; check username and password_env" in run.out


# --- arguments and the configuration file --------------------------------------------


@pytest.mark.parametrize("value", ["-3", "0", "veel"])
def test_threads_below_one_or_not_a_number_is_refused_with_exit_2(tmp_path: Path, value: str) -> None:
    config = write(tmp_path, toml_config(database=sqlite(tmp_path)))
    run = klachtwacht("--config", str(config), "ingest", "--once", "--threads", value, cwd=tmp_path)
    assert run.status == 2
    assert "--threads" in run.err and ("at least 1" in run.err or "whole number" in run.err)
    assert "Traceback" not in run.err and "CRITICAL" not in run.err


def test_config_may_follow_the_sub_command(tmp_path: Path) -> None:
    config = write(tmp_path, toml_config(database=sqlite(tmp_path)), name="elders.toml")
    run = klachtwacht("messages", "list", "--config", str(config), cwd=tmp_path, env={"KW_TEST_PASSWORD": "x"})
    assert run.status == 0, run.err


def test_a_missing_configuration_file_says_where_it_looked_and_how_to_point_elsewhere(tmp_path: Path) -> None:
    run = klachtwacht("messages", "list", cwd=tmp_path)
    assert run.status == 2
    assert_one_line(run, str(tmp_path / "klachtwacht.toml"), "--config", "KLACHTWACHT_CONFIG")


def test_a_missing_file_named_by_the_variable_says_so(tmp_path: Path) -> None:
    run = klachtwacht("messages", "list", cwd=tmp_path, env={"KLACHTWACHT_CONFIG": str(tmp_path / "elders.toml")})
    assert run.status == 2
    assert_one_line(run, str(tmp_path / "elders.toml"), "from KLACHTWACHT_CONFIG")


def test_a_value_of_the_wrong_type_reads_must_be_an_integer(tmp_path: Path) -> None:
    config = write(tmp_path, toml_config(database=sqlite(tmp_path)).replace("port = 2525", 'port = "2525"'))
    run = klachtwacht("--config", str(config), "messages", "list", cwd=tmp_path, env={"KW_TEST_PASSWORD": "x"})
    assert run.status == 2
    line = assert_one_line(run, "smtp.port", "must be an integer, not a string")
    assert "a int" not in line


@pytest.mark.parametrize("command", [("messages", "list"), ("register", "list"), ("db", "upgrade")])
def test_read_only_commands_need_no_mailbox_password(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = write(tmp_path, toml_config(database=sqlite(tmp_path)))
    run = klachtwacht("--config", str(config), *command, cwd=tmp_path)  # KW_TEST_PASSWORD is not set
    assert run.status == 0, run.err


def test_a_command_that_connects_still_asks_for_the_missing_password_by_key(tmp_path: Path) -> None:
    config = write(tmp_path, toml_config(database=sqlite(tmp_path)))
    run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path)
    assert run.status == 2
    assert_one_line(run, "mailboxes[0].imap.password_env", "KW_TEST_PASSWORD is not set")


@pytest.mark.parametrize("command", ["run", "worker"])
def test_a_long_running_part_with_an_unreachable_broker_exits_2_at_once(tmp_path: Path, command: str) -> None:
    port = free_port()
    config = write(tmp_path, toml_config(database=sqlite(tmp_path), broker=f"amqp://guest:guest@127.0.0.1:{port}/"))
    run = klachtwacht(command, "--config", str(config), cwd=tmp_path, env={"KW_TEST_PASSWORD": "x"}, timeout=120)
    assert run.status == 2
    assert_one_line(run, "broker.url", f"RabbitMQ at 127.0.0.1:{port}")


def test_an_smtp_login_that_is_refused_stops_ingest_naming_smtp_username(tmp_path: Path) -> None:
    from support.smtp import SmtpSink

    with SmtpSink(auth=("klachtwacht", "smtp-geheim")) as sink:
        text = toml_config(database=sqlite(tmp_path), smtp_port=sink.port).replace(
            'sender = "klachten@gemeente-veenstad.nl"', 'sender = "klachten@gemeente-veenstad.nl"\nusername = "klachtwacht"\npassword_env = "KW_SMTP_PASSWORD"'
        )
        config = write(tmp_path, text)
        run = klachtwacht("--config", str(config), "ingest", "--once", cwd=tmp_path, env={"KW_TEST_PASSWORD": "x", "KW_SMTP_PASSWORD": "verkeerd"})
    assert run.status == 2
    assert_one_line(run, "smtp.username", "refused the login of 'klachtwacht'", "nothing was fetched")
