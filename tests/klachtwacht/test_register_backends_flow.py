"""The zgw and email register backends inside the whole flow, and organisations' own thresholds."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from support.labels import HeaderLabels
from support.mail import make_mail
from support.zgw_server import TEST_SECRET, ZgwServer

from klachtwacht.queries import list_messages, list_register
from klachtwacht.runtime import run_ingest_once

pytestmark = pytest.mark.dovecot


def _toml_table(name: str, values: dict[str, Any]) -> str:
    lines = [f"[{name}]"]
    for key, value in values.items():
        lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}")
    return "\n".join(lines)


def test_register_down_for_a_while_then_every_complaint_becomes_one_zaak(setup: Any, dovecot: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KW_ZGW_SECRET", TEST_SECRET)
    for i in range(3):
        dovecot.append("wethouder", "INBOX", make_mail(subject=f"Klacht {i} [label:klacht p=0.97]", body="Tekst", sender=f"Burger <b{i}@example.nl>", message_id=f"<zgw{i}@example.nl>"))
    with ZgwServer() as zgw:
        setup.dovecot = dovecot
        setup.mailbox("wethouder-devries", "wethouder")
        setup.extra = _toml_table("register", {"backend": "zgw", **zgw.register_options()})
        app = setup.app(HeaderLabels())
        zgw.fail_with(503, retry_after=0)
        try:
            result: dict[str, Any] = {}
            runner = threading.Thread(target=lambda: result.update(run_ingest_once(app)))
            runner.start()
            deadline = time.monotonic() + 30
            rows: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                rows = list_messages(app.sessions)
                if len(rows) == 3 and all(r["attempts"] >= 2 for r in rows):
                    break
                time.sleep(0.1)
            assert all(r["state"] == "decided" and "503" in (r["last_error"] or "") for r in rows), rows
            assert zgw.zaken == {}
            zgw.recover()
            runner.join(90)
            assert result["not_final"] == 0
            assert len(zgw.zaken) == 3 and len(zgw.documents) == 3 and len(zgw.rollen) == 3
            assert zgw.spec_violations == []
            register = list_register(app.sessions)
            assert all(r["backend"] == "zgw" and r["external_ref"].startswith(zgw.zaken_url) and r["notice_sent"] for r in register)
            assert {z["identificatie"] for z in zgw.zaken.values()} == {r["number"] for r in register}
        finally:
            zgw.recover()
            app.close()


def test_the_email_register_sends_the_original_to_the_complaints_team_once(setup: Any, dovecot: Any, smtp: Any) -> None:
    raw = make_mail(subject="Klacht [label:klacht p=0.97]", body="De medewerker was onbeschoft.", sender="Ria <ria@example.nl>", message_id="<mailreg@example.nl>")
    dovecot.append("wethouder", "INBOX", raw)
    dovecot.append("raad", "INBOX", raw)
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder")
    setup.mailbox("griffie", "raad", role="raad")
    setup.extra = '[register]\nbackend = "email"'
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        team = [c for c in smtp.messages if "klachtencoordinator@gemeente-veenstad.nl" in c.rcpt_tos]
        assert len(team) == 1
        message = team[0].message
        (original,) = list(message.iter_attachments())
        assert original.get_content_type() == "message/rfc822"
        assert original.get_content()["Message-ID"] == "<mailreg@example.nl>"
        assert "KL-2026-000001" in message["Subject"] and "Uiterste afhandeldatum" in message.get_body(("plain",)).get_content()
        (entry,) = list_register(app.sessions)
        assert entry["backend"] == "email" and entry["notice_sent"]
    finally:
        app.close()


def test_an_organisation_can_set_its_own_thresholds(setup: Any, dovecot: Any, smtp: Any) -> None:
    dovecot.append("wethouder", "INBOX", make_mail(subject="Twijfel [label:klacht p=0.6]", body="x", message_id="<t1@example.nl>"))
    dovecot.append("raad", "INBOX", make_mail(subject="Twijfel [label:klacht p=0.6]", body="y", message_id="<t2@example.nl>"))
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder", organisation="streng")
    setup.mailbox("griffie", "raad", role="raad", organisation="ruim")
    setup.extra = "\n".join(
        [
            "[[organisations]]", 'name = "streng"', 'display_name = "Gemeente Streng"', "register_threshold = 0.9", "review_threshold = 0.3",
            "[[organisations]]", 'name = "ruim"', 'display_name = "Gemeente Ruim"', "register_threshold = 0.5", "review_threshold = 0.2",
        ]
    )
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        states = {r["message_id"]: r["state"] for r in list_messages(app.sessions)}
        assert states == {"<t1@example.nl>": "review", "<t2@example.nl>": "done"}
        assert [r["number"] for r in list_register(app.sessions)] == ["KL-2026-000001"]
    finally:
        app.close()
