"""Operator logging: one line per event, addresses never shown, a retry told once."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from klachtwacht.errors import NoticeUnavailable
from klachtwacht.logsetup import configure_logging, redact


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    configure_logging()


def test_an_address_is_never_written_whoever_logs_it(captured: io.StringIO) -> None:
    logging.getLogger("some.library").warning("refused <%s> and %s", "ria.hendriks@example.nl", "p.bakker@example.nl")
    line = captured.getvalue()
    assert "example.nl" not in line and line.count("<address>") == 2


def test_an_error_is_one_line_without_its_traceback_unless_debug(captured: io.StringIO) -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logging.getLogger("x").exception("step failed")
    text = captured.getvalue()
    assert text.count("\n") == 1 and "Traceback" not in text and "ValueError: bad" in text


def _dramatiq_retry(reason: Exception) -> None:
    """What a worker thread logs around a retried ``kw.advance(42)``: our wrapper's line, then dramatiq's."""
    logging.getLogger("klachtwacht.runtime").warning("message 42: %s; retry 1, next attempt in 4 s", reason)
    try:
        raise reason
    except Exception:
        logging.getLogger("dramatiq.worker.WorkerThread").error(
            "Failed to process message %s with unhandled exception.", "kw.advance(42)", exc_info=True)
    retries = logging.getLogger("dramatiq.middleware.retries.Retries")
    retries.warning("Retrying message %r in %d milliseconds.", "5f0c-uuid", 4000)  # whatever its level


def test_a_retry_is_told_once_with_its_reason_and_next_attempt(captured: io.StringIO) -> None:
    _dramatiq_retry(NoticeUnavailable("SMTP server answered 451: try again later"))
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1
    assert "message 42: SMTP server answered 451: try again later; retry 1, next attempt in 4 s" in lines[0]
    assert "Traceback" not in lines[0]


def test_a_bug_is_logged_once_and_not_as_a_retry(captured: io.StringIO) -> None:
    try:
        raise KeyError("oops")
    except KeyError:
        logging.getLogger("dramatiq.worker.WorkerThread").error("Failed to process message %s with unhandled exception.", "kw.advance(7)", exc_info=True)
    logging.getLogger("dramatiq.middleware.retries.Retries").warning("Retries exceeded for message %r.", "uuid")
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1 and "message 7: failed, not retried" in lines[0] and "KeyError" in lines[0]


def test_json_lines_carry_the_error_apart() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, log_format="json")
    try:
        try:
            raise OSError("connection refused")
        except OSError:
            logging.getLogger("ingest").exception("mailbox %s: cannot connect", "wethouder")
        entry = json.loads(stream.getvalue())
        assert entry["message"] == "mailbox wethouder: cannot connect"
        assert entry["error"] == "OSError: connection refused" and "traceback" not in entry
    finally:
        configure_logging()


def test_redact_keeps_what_is_not_an_address() -> None:
    assert redact("message 5 in wethouder-devries at 127.0.0.1:143") == "message 5 in wethouder-devries at 127.0.0.1:143"
