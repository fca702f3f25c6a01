"""Configuration: read once, validated, every error naming file, key and problem (klachtwacht/config.py).

Also the command line's exit status 2 on a configuration error (klachtwacht/cli.py).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from klachtwacht.cli import main
from klachtwacht.config import Secret, load_config, parse_config
from klachtwacht.errors import ConfigError, KlachtwachtError

REPO = Path(__file__).resolve().parents[2]
PATH = "/etc/klachtwacht/gemeente.toml"
IMAP_PASSWORD = "imap-wachtwoord-7f3a"
ENV = {"KW_IMAP_PASSWORD": IMAP_PASSWORD}

MINIMAL_TOML = """\
[[mailboxes]]
name = "wethouder-jansen"
role = "wethouder"
address = "jansen@gemeente.example"

[mailboxes.imap]
host = "imap.gemeente.example"
username = "jansen"
password_env = "KW_IMAP_PASSWORD"
"""


def mailbox(name: str = "wethouder-jansen", **extra: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": name,
        "role": "wethouder",
        "address": f"{name}@gemeente.example",
        "imap": {"host": "imap.gemeente.example", "username": name, "password_env": "KW_IMAP_PASSWORD"},
    }
    table.update(extra)
    return table


def document(**tables: Any) -> dict[str, Any]:
    """A valid document with one mailbox, with ``tables`` replacing or adding top-level keys."""
    data: dict[str, Any] = {"mailboxes": [mailbox()]}
    data.update(copy.deepcopy(tables))
    return data


def two_organisations(**extra: Any) -> dict[str, Any]:
    return document(
        organisations=[
            {"name": "utrecht", "display_name": "Gemeente Utrecht"},
            {"name": "sociaal", "display_name": "Dienst Sociaal Domein"},
        ],
        mailboxes=[mailbox(organisation="utrecht")],
        **extra,
    )


def config_error(data: dict[str, Any], env: dict[str, str] = ENV) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(data, PATH, env=env)
    error = info.value
    assert error.path == PATH
    assert PATH in str(error) and error.key in str(error)
    return error


def write(tmp_path: Path, text: str | bytes, name: str = "klachtwacht.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- a valid file ----------------------------------------------------------


def test_a_minimal_file_loads_with_the_documented_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML)
    config = load_config(path, env=ENV)
    assert config.path == str(path)
    assert config.database.url == "sqlite:///klachtwacht.db"
    assert config.broker.url == "memory://"
    assert config.register.backend == "database"
    (box,) = config.mailboxes
    assert box.name == "wethouder-jansen"
    assert box.folders == ("INBOX",)
    assert box.organisation == "default"
    assert box.imap.port == 993  # tls is the default security
    assert box.imap.password is not None and box.imap.password.reveal() == IMAP_PASSWORD
    assert config.organisation("default").display_name == "de gemeente"


def test_the_imap_port_defaults_to_143_without_tls() -> None:
    data = document(mailboxes=[mailbox(imap={"host": "h", "username": "u", "password_env": "KW_IMAP_PASSWORD", "security": "starttls"})])
    assert parse_config(data, PATH, env=ENV).mailboxes[0].imap.port == 143


def test_a_loaded_config_cannot_be_changed() -> None:
    config = parse_config(document(), PATH, env=ENV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.smtp = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.mailboxes[0].imap.host = "elders"  # type: ignore[misc]


def test_route_topics_are_kept_in_lower_case() -> None:
    data = two_organisations(rules={"routes": [{"name": "wmo", "organisation": "sociaal", "topics": ["Wmo", "JEUGDWET"]}]})
    assert parse_config(data, PATH, env=ENV).rules.routes[0].topics == ("wmo", "jeugdwet")


def test_a_password_file_is_read_and_stripped(tmp_path: Path) -> None:
    secret_file = write(tmp_path, "  uit-een-bestand\n", "smtp-password")
    config = parse_config(document(smtp={"password_file": str(secret_file)}), PATH, env=ENV)
    assert config.smtp.password == Secret("uit-een-bestand")


def test_a_config_error_is_a_klachtwacht_error() -> None:
    assert issubclass(ConfigError, KlachtwachtError)


# --- every error names its key ---------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param(document(sharepoint={}), "sharepoint", id="top-level"),
        pytest.param(document(smtp={"prot": 25}), "smtp.prot", id="smtp"),
        pytest.param(document(mailboxes=[mailbox(imap={"hostname": "h"})]), "mailboxes[0].imap.hostname", id="imap"),
        pytest.param(document(mailboxes=[mailbox(), mailbox("raad", folder="INBOX")]), "mailboxes[1].folder", id="second-mailbox"),
        pytest.param(document(rules={"treshold": 0.5}), "rules.treshold", id="rules"),
        pytest.param(document(ingest={"batch": 5}), "ingest.batch", id="ingest"),
    ],
)
def test_an_unknown_key_is_refused_by_its_full_name(data: dict[str, Any], key: str) -> None:
    error = config_error(data)
    assert error.key == key
    assert "unknown key" in error.problem


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        pytest.param(document(smtp={"port": "25"}), "smtp.port", ("int", "str"), id="string-for-int"),
        pytest.param(document(smtp={"port": True}), "smtp.port", ("int", "bool"), id="bool-for-int"),
        pytest.param(document(ingest={"batch_size": 1.5}), "ingest.batch_size", ("int", "float"), id="float-for-int"),
        pytest.param(document(mailboxes=[mailbox(idle="ja")]), "mailboxes[0].idle", ("bool", "str"), id="string-for-bool"),
        pytest.param(document(rules={"register_threshold": "hoog"}), "rules.register_threshold", ("float", "str"), id="string-for-float"),
        pytest.param(document(smtp=["host"]), "smtp", ("table",), id="array-for-table"),
        pytest.param(document(mailboxes={"name": "x"}), "mailboxes", ("array",), id="table-for-array"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_key_and_types(data: dict[str, Any], key: str, words: tuple[str, ...]) -> None:
    error = config_error(data)
    assert error.key == key
    for word in words:
        assert word in error.problem


def test_an_integer_is_accepted_where_a_float_is_expected() -> None:
    config = parse_config(document(smtp={"timeout": 10}), PATH, env=ENV)
    assert config.smtp.timeout == 10.0 and isinstance(config.smtp.timeout, float)


@pytest.mark.parametrize(
    ("box", "key"),
    [
        pytest.param({k: v for k, v in mailbox().items() if k != "name"}, "mailboxes[0].name", id="name"),
        pytest.param({k: v for k, v in mailbox().items() if k != "address"}, "mailboxes[0].address", id="address"),
        pytest.param({k: v for k, v in mailbox().items() if k != "role"}, "mailboxes[0].role", id="role"),
        pytest.param({k: v for k, v in mailbox().items() if k != "imap"}, "mailboxes[0].imap", id="imap"),
        pytest.param(mailbox(imap={"username": "u", "password_env": "KW_IMAP_PASSWORD"}), "mailboxes[0].imap.host", id="imap-host"),
        pytest.param(mailbox(imap={"host": "h", "username": "u"}), "mailboxes[0].imap.password_env", id="imap-password"),
    ],
)
def test_a_missing_required_key_is_named(box: dict[str, Any], key: str) -> None:
    error = config_error(document(mailboxes=[box]))
    assert error.key == key
    assert "required" in error.problem


def test_xoauth2_without_app_credentials_or_token_names_the_first_missing_key() -> None:
    box = mailbox(imap={"host": "h", "username": "u", "auth": "xoauth2", "tenant_id": "t"})
    error = config_error(document(mailboxes=[box]))
    assert error.key == "mailboxes[0].imap.client_id"
    assert "xoauth2 needs" in error.problem


def test_xoauth2_with_a_ready_token_needs_no_app_credentials() -> None:
    box = mailbox(imap={"host": "h", "username": "u", "auth": "xoauth2", "token_env": "KW_IMAP_PASSWORD"})
    assert parse_config(document(mailboxes=[box]), PATH, env=ENV).mailboxes[0].imap.token == Secret(IMAP_PASSWORD)


def test_a_missing_organisation_name_is_named() -> None:
    error = config_error(document(organisations=[{"display_name": "Gemeente Utrecht"}]))
    assert error.key == "organisations[0].name"


@pytest.mark.parametrize("port", [0, -1, 65536, 100_000])
def test_a_port_outside_1_to_65535_is_refused(port: int) -> None:
    error = config_error(document(smtp={"port": port}))
    assert error.key == "smtp.port"
    assert str(port) in error.problem


@pytest.mark.parametrize("port", [1, 65535])
def test_the_edge_ports_are_accepted(port: int) -> None:
    assert parse_config(document(smtp={"port": port}), PATH, env=ENV).smtp.port == port


def test_an_imap_port_outside_the_range_names_the_mailbox() -> None:
    box = mailbox(imap={"host": "h", "username": "u", "password_env": "KW_IMAP_PASSWORD", "port": 70000})
    assert config_error(document(mailboxes=[box])).key == "mailboxes[0].imap.port"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param(document(smtp={"password": "inline-geheim-1"}), "smtp.password", id="smtp-password"),
        pytest.param(
            document(mailboxes=[mailbox(imap={"host": "h", "username": "u", "password": "inline-geheim-1"})]),
            "mailboxes[0].imap.password",
            id="imap-password",
        ),
        pytest.param(
            document(mailboxes=[mailbox(imap={"host": "h", "username": "u", "auth": "xoauth2", "token": "inline-geheim-1"})]),
            "mailboxes[0].imap.token",
            id="imap-token",
        ),
        pytest.param(
            document(mailboxes=[mailbox(imap={"host": "h", "username": "u", "auth": "xoauth2", "tenant_id": "t", "client_id": "c", "client_secret": "inline-geheim-1"})]),
            "mailboxes[0].imap.client_secret",
            id="imap-client-secret",
        ),
    ],
)
def test_an_inline_secret_is_refused_without_repeating_it(data: dict[str, Any], key: str) -> None:
    error = config_error(data)
    assert error.key == key
    assert "never inline" in error.problem
    assert "inline-geheim-1" not in str(error)


def test_a_secret_from_an_unset_environment_variable_names_key_and_variable() -> None:
    error = config_error(document(), env={})
    assert error.key == "mailboxes[0].imap.password_env"
    assert "KW_IMAP_PASSWORD" in error.problem


def test_a_secret_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    error = config_error(document(smtp={"password_file": str(tmp_path / "bestaat-niet")}))
    assert error.key == "smtp.password_file"


def test_a_secret_from_both_env_and_file_is_refused(tmp_path: Path) -> None:
    secret_file = write(tmp_path, "x", "pw")
    error = config_error(document(smtp={"password_env": "KW_IMAP_PASSWORD", "password_file": str(secret_file)}))
    assert error.key == "smtp.password_env"


def test_a_mailbox_name_used_twice_is_refused_at_the_second_use() -> None:
    error = config_error(document(mailboxes=[mailbox("raad"), mailbox("wethouder"), mailbox("raad")]))
    assert error.key == "mailboxes[2].name"
    assert "'raad'" in error.problem


def test_an_organisation_defined_twice_is_refused() -> None:
    orgs = [{"name": "utrecht", "display_name": "A"}, {"name": "utrecht", "display_name": "B"}]
    error = config_error(document(organisations=orgs, mailboxes=[mailbox(organisation="utrecht")]))
    assert error.key == "organisations[1].name"


def test_a_mailbox_of_an_unknown_organisation_is_refused_listing_the_known_ones() -> None:
    data = two_organisations()
    data["mailboxes"] = [mailbox(organisation="zeist")]
    error = config_error(data)
    assert error.key == "mailboxes[0].organisation"
    assert "'zeist'" in error.problem
    assert "sociaal" in error.problem and "utrecht" in error.problem


def test_a_route_to_an_unknown_organisation_names_the_route() -> None:
    data = two_organisations(rules={"routes": [{"name": "jeugd", "organisation": "jeugdregio", "topics": ["jeugdwet"]}]})
    error = config_error(data)
    assert error.key == "rules.routes[0] (jeugd).organisation"
    assert "'jeugdregio'" in error.problem


def test_a_route_from_an_unknown_organisation_names_the_route() -> None:
    route = {"name": "wmo", "organisation": "sociaal", "topics": ["wmo"], "from_organisations": ["utrecht", "zeist"]}
    error = config_error(two_organisations(rules={"routes": [route]}))
    assert error.key == "rules.routes[0] (wmo).from_organisations"
    assert "'zeist'" in error.problem


def test_a_route_without_topics_is_refused() -> None:
    error = config_error(two_organisations(rules={"routes": [{"name": "wmo", "organisation": "sociaal", "topics": []}]}))
    assert error.key == "rules.routes[0] (wmo).topics"


def test_a_review_threshold_above_the_register_threshold_is_refused() -> None:
    error = config_error(document(rules={"register_threshold": 0.6, "review_threshold": 0.7}))
    assert error.key == "rules.review_threshold"
    assert "rules.register_threshold" in error.problem


def test_equal_review_and_register_thresholds_are_accepted() -> None:
    rules = parse_config(document(rules={"register_threshold": 0.6, "review_threshold": 0.6}), PATH, env=ENV).rules
    assert (rules.register_threshold, rules.review_threshold) == (0.6, 0.6)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_a_threshold_outside_0_to_1_is_refused(value: float) -> None:
    assert config_error(document(rules={"register_threshold": value})).key == "rules.register_threshold"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param(document(smtp={"security": "ssl"}), "smtp.security", id="smtp-security"),
        pytest.param(document(register={"backend": "excel"}), "register.backend", id="register-backend"),
        pytest.param(document(mailboxes=[mailbox(role="griffier")]), "mailboxes[0].role", id="role"),
        pytest.param(document(database={"url": "mysql://x"}), "database.url", id="database-url"),
        pytest.param(document(mailboxes=[mailbox(address="geen-adres")]), "mailboxes[0].address", id="address"),
        pytest.param(document(ingest={"batch_size": 0}), "ingest.batch_size", id="zero-batch"),
    ],
)
def test_a_value_outside_its_choices_is_refused_by_key(data: dict[str, Any], key: str) -> None:
    assert config_error(data).key == key


def test_an_unknown_register_key_is_refused_on_load() -> None:
    error = config_error(document(register={"backend": "database", "bakend_url": "x"}))
    assert error.key == "register.bakend_url"


def test_an_inline_register_secret_is_refused_on_load() -> None:
    error = config_error(document(register={"backend": "zgw", "secret": "inline-zgw-geheim"}))
    assert error.key == "register.secret"


# --- the file itself -------------------------------------------------------


def test_a_missing_file_is_reported_as_not_found(tmp_path: Path) -> None:
    path = tmp_path / "bestaat-niet.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV)
    assert info.value.path == str(path)
    assert info.value.key == ""
    assert "not found" in info.value.problem


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[smtp\nport = 25\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV)
    assert info.value.path == str(path)
    assert "not valid TOML" in info.value.problem


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, b'[smtp]\nsender = "gem\xe9ente@x.nl"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV)
    assert "UTF-8" in info.value.problem


def test_a_folder_given_as_the_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env=ENV)
    assert info.value.path == str(tmp_path)


def test_an_error_in_a_file_names_that_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML + "\n[smtp]\nport = 0\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV)
    assert info.value.path == str(path)
    assert info.value.key == "smtp.port"


def test_the_process_environment_is_used_when_none_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KW_IMAP_PASSWORD", "uit-de-omgeving")
    config = load_config(write(tmp_path, MINIMAL_TOML))
    assert config.mailboxes[0].imap.password == Secret("uit-de-omgeving")


# --- secrets ---------------------------------------------------------------


def test_secrets_never_appear_in_the_repr_of_the_config(tmp_path: Path) -> None:
    smtp_file = write(tmp_path, "smtp-wachtwoord-91c2\n", "smtp-password")
    env = {**ENV, "KW_CLIENT_SECRET": "client-secret-44d0", "KW_TOKEN": "token-aa19"}
    text = MINIMAL_TOML + f"""
[[mailboxes]]
name = "burgemeester"
role = "burgemeester"
address = "burgemeester@gemeente.example"

[mailboxes.imap]
host = "outlook.office365.com"
username = "burgemeester@gemeente.example"
auth = "xoauth2"
tenant_id = "tenant"
client_id = "client"
client_secret_env = "KW_CLIENT_SECRET"
token_env = "KW_TOKEN"

[smtp]
username = "klachtwacht"
password_file = "{smtp_file}"
"""
    config = load_config(write(tmp_path, text), env=env)
    shown = repr(config) + str(config) + repr(config.mailboxes) + repr(config.smtp)
    for secret in (IMAP_PASSWORD, "smtp-wachtwoord-91c2", "client-secret-44d0", "token-aa19"):
        assert secret not in shown
    assert config.smtp.password is not None and config.smtp.password.reveal() == "smtp-wachtwoord-91c2"
    assert config.mailboxes[1].imap.token == Secret("token-aa19")


def test_a_secret_shows_only_stars_in_repr_str_and_format() -> None:
    secret = Secret("zeer-geheim")
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('***')"
    assert secret.reveal() == "zeer-geheim"


def test_secrets_compare_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"


def test_an_inline_register_secret_never_appears_in_the_repr() -> None:
    try:
        config = parse_config(document(register={"backend": "zgw", "secret": "inline-zgw-geheim"}), PATH, env=ENV)
    except ConfigError as exc:  # refusing it on load is one way to keep it out
        assert "inline-zgw-geheim" not in str(exc)
        return
    assert "inline-zgw-geheim" not in repr(config)


# --- the command line: exit status 2 ---------------------------------------


def test_the_command_line_exits_2_naming_file_and_key_on_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KW_IMAP_PASSWORD", IMAP_PASSWORD)
    path = write(tmp_path, MINIMAL_TOML + "\n[smtp]\nprot = 25\n")
    status = main(["--config", str(path), "messages", "list"])
    captured = capsys.readouterr()
    assert status == 2
    assert str(path) in captured.err
    assert "smtp.prot" in captured.err
    assert captured.out == ""


def test_the_command_line_exits_2_when_the_file_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "weg.toml"
    assert main(["--config", str(path), "messages", "list"]) == 2
    assert str(path) in capsys.readouterr().err


def test_the_installed_module_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML + "\n[smtp]\nport = 0\n")
    env = {k: v for k, v in os.environ.items() if k != "KLACHTWACHT_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(ENV)
    result = subprocess.run(
        [sys.executable, "-m", "klachtwacht.cli", "--config", str(path), "messages", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert str(path) in result.stderr
    assert "smtp.port" in result.stderr
    assert "Traceback" not in result.stderr
