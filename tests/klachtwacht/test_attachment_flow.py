"""A complaint sent as an attachment under "zie bijlage" is registered: Dovecot, SMTP, SQLite and PostgreSQL, the shipped model."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from support.ocr import require_ocr

from klachtwacht.queries import list_messages, list_register
from klachtwacht.runtime import run_ingest_once

pytestmark = pytest.mark.dovecot
WHOLE = Path(__file__).resolve().parents[1] / "golden" / "whole"
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
ATTACHED = {
    "complaint_as_pdf": "<pdf@example.nl>",
    "complaint_as_docx": "<docx@example.nl>",
    "complaint_as_photographed_letter": "<photo@example.nl>",
}


def test_a_complaint_sent_as_pdf_docx_or_photographed_letter_under_zie_bijlage_is_registered_and_answered(
    setup: Any, dovecot: Any, smtp: Any, classifier: Any
) -> None:
    require_ocr()
    for name in ATTACHED:
        dovecot.append("wethouder", "INBOX", (WHOLE / (name + ".eml")).read_bytes(), msg_time=RECEIVED)
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", secretary="secretariaat.devries@gemeente-veenstad.nl")
    app = setup.app(classifier)
    try:
        summary = run_ingest_once(app)
        assert summary["not_final"] == 0
        rows = {row["message_id"]: row for row in list_messages(app.sessions)}
        assert {mid: rows[mid]["label"] for mid in ATTACHED.values()} == dict.fromkeys(ATTACHED.values(), "klacht")
        register = {entry["message_id"]: entry for entry in list_register(app.sessions)}
        assert set(register) == set(ATTACHED.values())
        assert all(entry["notice_sent"] for entry in register.values())
        to_sender = [c for c in smtp.messages if "marieke.bakker@example.nl" in c.rcpt_tos]
        assert len(to_sender) == 3
    finally:
        app.close()
