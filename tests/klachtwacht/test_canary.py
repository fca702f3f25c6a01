"""The probe's token and its configuration: pure, no servers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from klachtwacht.canary.token import Token, check, sign
from klachtwacht.config import parse_config
from klachtwacht.errors import ConfigError

KEY = b"a-key-for-the-canary-tests"
NOW = datetime(2026, 12, 2, 2, 30, tzinfo=timezone.utc)
DAY = timedelta(hours=48)
TOKEN = Token("wethouder-jansen", NOW, "0f" * 16)
PATH = "/etc/klachtwacht/gemeente.toml"


def test_a_token_signed_with_the_key_checks_out_with_its_mailbox_moment_and_nonce() -> None:
    assert check(KEY, sign(KEY, TOKEN), NOW + timedelta(minutes=3), DAY) == TOKEN


@pytest.mark.parametrize("tamper", ["key", "mailbox", "issued", "nonce", "shape"])
def test_a_token_changed_in_any_field_or_signed_with_another_key_is_refused(tamper: str) -> None:
    value = sign(KEY, TOKEN)
    version, mailbox, issued, nonce, mac = value.split(":")
    changed = {
        "key": sign(b"another-key-of-enough-length", TOKEN),
        "mailbox": ":".join((version, "raadsgriffie", issued, nonce, mac)),
        "issued": ":".join((version, mailbox, str(int(issued) + 60), nonce, mac)),
        "nonce": ":".join((version, mailbox, issued, "1e" * 16, mac)),
        "shape": value + ":extra",
    }[tamper]
    assert isinstance(check(KEY, changed, NOW, DAY), str)


def test_an_old_token_is_expired_and_one_from_the_future_is_refused() -> None:
    assert "expired" in str(check(KEY, sign(KEY, TOKEN), NOW + DAY + timedelta(seconds=1), DAY))
    assert "future" in str(check(KEY, sign(KEY, TOKEN), NOW - timedelta(hours=1), DAY))


def _document(**canary: Any) -> dict[str, Any]:
    box = {"name": "wethouder-jansen", "role": "wethouder", "address": "jansen@gemeente.example", "canary": True,
           "imap": {"host": "imap.gemeente.example", "username": "jansen", "password_env": "KW_IMAP_PASSWORD"}}
    data: dict[str, Any] = {"mailboxes": [box]}
    if canary:
        data["reconcile"] = {"canary": canary}
    return data


ENV = {"KW_IMAP_PASSWORD": "x", "KW_CANARY_SECRET": "sixteen-or-more-characters"}


def test_the_canary_key_comes_from_the_environment_and_never_shows() -> None:
    config = parse_config(_document(secret_env="KW_CANARY_SECRET", max_delay_minutes=45), PATH, env=ENV)
    canary = config.reconcile.canary
    assert canary is not None and canary.max_delay_minutes == 45 and canary.valid_hours == 48
    assert canary.secret.reveal() == ENV["KW_CANARY_SECRET"] and ENV["KW_CANARY_SECRET"] not in repr(config)
    assert config.mailboxes[0].canary


@pytest.mark.parametrize(("canary", "key", "problem"), [
    ({}, "mailboxes[0].canary", "needs [reconcile.canary]"),
    ({"secret": "inline-secret-value"}, "reconcile.canary.secret", "never inline"),
    ({"max_delay_minutes": 30}, "reconcile.canary.secret_env", "is required"),
    ({"secret_env": "KW_SHORT"}, "reconcile.canary.secret_env", "at least 16"),
])
def test_a_canary_mailbox_without_a_usable_key_is_a_configuration_error(canary: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_document(**canary), PATH, env={**ENV, "KW_SHORT": "short"})
    assert info.value.key == key and problem in str(info.value)
