"""``klachtwacht register extend``: the term extended (Awb 9:11 lid 2) and the complainant told in writing, once.

On real Dovecot, SQLite and PostgreSQL, and a real SMTP server; the command runs as an operator runs it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from support.cli import klachtwacht
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.notices.render import dutch_date
from klachtwacht.queries import list_register
from klachtwacht.runtime import run_ingest_once
from rules.deadlines import complaint_terms, roll_forward

pytestmark = pytest.mark.dovecot
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
REASON = "Wij wachten nog op de reactie van de betrokken afdeling."
PASSWORD = {"KW_TEST_PASSWORD": "geheim-wachtwoord"}


@pytest.fixture
def world(setup: Any, dovecot: Any, smtp: Any) -> Any:
    """One registered complaint from Ria, its confirmation sent; the SMTP sink emptied."""
    dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht over de balie [label:klacht p=0.97]", body="Ik werd niet geholpen.",
                                                   sender="Ria Hendriks <ria@example.nl>", message_id="<balie@example.nl>"), msg_time=RECEIVED)
    setup.dovecot, setup.smtp = dovecot, smtp
    setup.mailbox("wethouder-devries", "wethouder")
    app = setup.app(HeaderLabels())
    assert run_ingest_once(app)["not_final"] == 0
    app.close()
    smtp.clear()
    return setup


def _extend(setup: Any, *more: str) -> Any:
    return klachtwacht("--config", str(setup.tmp_path / "klachtwacht.toml"), "register", "extend", "KL-2026-000001", *more, cwd=setup.tmp_path, env=PASSWORD)


def _letters(smtp: Any) -> list[Any]:
    return [m for m in smtp.messages if "ria@example.nl" in m.rcpt_tos]


def _extended_due(setup: Any) -> str | None:
    from klachtwacht.db import make_engine, make_sessionmaker

    engine = make_engine(setup.db_url)
    try:
        return list_register(make_sessionmaker(engine))[0]["extended_due"]  # type: ignore[no-any-return]
    finally:
        engine.dispose()


def test_extending_a_complaint_sends_the_complainant_one_dutch_letter_with_the_new_date_and_the_reason(world: Any, smtp: Any) -> None:
    new_due = complaint_terms(RECEIVED).extended_due
    run = _extend(world, "--weeks", "4", "--reason", REASON, "--json")
    assert run.status == 0, run.err
    assert json.loads(run.out)["extended_due"] == new_due.isoformat() and json.loads(run.out)["letter"] == "done"
    assert _extended_due(world) == new_due.isoformat()
    (letter,) = _letters(smtp)
    text = letter.message.get_body(("plain",)).get_content()
    assert letter.message["Subject"] == "Verdaging van de afhandeling van uw klacht (KL-2026-000001)"
    assert dutch_date(new_due) in text and dutch_date(complaint_terms(RECEIVED).due) in text and REASON in text
    assert "artikel 9:11, tweede lid" in text and "Beste Ria Hendriks" in text
    assert letter.message["In-Reply-To"] == "<balie@example.nl>"

    again = _extend(world, "--weeks", "4", "--reason", REASON)
    assert again.status == 0, again.err
    assert "al vastgelegd" in again.out
    assert len(_letters(smtp)) == 1  # the same extension asked for twice: one letter


def test_more_than_four_weeks_or_a_second_extension_is_refused_without_the_complainants_consent(world: Any, smtp: Any) -> None:
    too_long = _extend(world, "--weeks", "5", "--reason", REASON)
    assert too_long.status == 1 and "consent" in too_long.err
    assert _extended_due(world) is None and _letters(smtp) == []

    assert _extend(world, "--weeks", "4", "--reason", REASON).status == 0
    first = complaint_terms(RECEIVED).extended_due
    second = _extend(world, "--weeks", "2", "--reason", "Nog een gesprek nodig.")
    assert second.status == 1 and "written consent" in second.err
    assert _extended_due(world) == first.isoformat() and len(_letters(smtp)) == 1

    agreed = _extend(world, "--weeks", "2", "--reason", "Nog een gesprek nodig.", "--with-consent")
    assert agreed.status == 0, agreed.err
    assert _extended_due(world) == roll_forward(first + timedelta(weeks=2)).isoformat()
    letters = _letters(smtp)
    assert len(letters) == 2 and letters[0].message["Message-ID"] != letters[1].message["Message-ID"]
    text = letters[1].message.get_body(("plain",)).get_content()
    assert "schriftelijk" in text and dutch_date(roll_forward(first + timedelta(weeks=2))) in text and dutch_date(first) in text


def test_a_letter_the_mail_server_did_not_take_is_sent_once_when_the_command_is_run_again(world: Any, smtp: Any) -> None:
    smtp.fail_with(451)
    down = _extend(world, "--reason", REASON)
    assert down.status == 1 and "nog niet verstuurd" in down.out
    assert _extended_due(world) == complaint_terms(RECEIVED).extended_due.isoformat()  # the extension itself is recorded
    assert _letters(smtp) == []
    smtp.fail_with(None)
    again = _extend(world, "--reason", REASON)
    assert again.status == 0, again.err
    assert len(_letters(smtp)) == 1
    assert _extend(world, "--reason", REASON).status == 0 and len(_letters(smtp)) == 1
