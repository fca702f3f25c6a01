"""The page filters say who did what in words a secretary reads."""

from __future__ import annotations

import pytest

from klachtwacht.web.filters import wie


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        ("worker", "klachtwacht"),
        ("ingest:vm:12163:140293361891008", "klachtwacht (ophalen)"),
        ("ingest:griffie", "klachtwacht (ophalen)"),
        ("Ria de Vries", "Ria de Vries"),
    ],
)
def test_the_history_names_klachtwacht_itself_without_its_process_and_people_by_name(actor: str, shown: str) -> None:
    assert wie(actor) == shown
