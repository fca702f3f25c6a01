"""``[review]`` in the typed configuration: the steekproef's weekly size per organisation."""

from __future__ import annotations

from typing import Any

import pytest

from klachtwacht.config import parse_config
from klachtwacht.errors import ConfigError

PATH = "/etc/klachtwacht/gemeente.toml"


def test_the_steekproef_draws_twenty_a_week_unless_configured() -> None:
    assert parse_config({}, PATH).review.steekproef_per_week == 20
    assert parse_config({"review": {"steekproef_per_week": 0}}, PATH).review.steekproef_per_week == 0
    assert parse_config({"review": {"steekproef_per_week": 50}}, PATH).review.steekproef_per_week == 50


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        pytest.param({"steekproef": 20}, "review.steekproef", ("unknown key",), id="unknown-key"),
        pytest.param({"steekproef_per_week": "twintig"}, "review.steekproef_per_week", ("integer",), id="wrong-type"),
        pytest.param({"steekproef_per_week": -1}, "review.steekproef_per_week", ("zero",), id="negative"),
    ],
)
def test_a_wrong_review_table_is_refused_naming_the_key(table: dict[str, Any], key: str, words: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"review": table}, PATH)
    assert caught.value.key == key
    for word in words:
        assert word in caught.value.problem
