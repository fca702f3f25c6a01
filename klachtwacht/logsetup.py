"""Logging for operators: one line per event, no personal data, text or JSON.

* Every record is one line. A traceback is printed only with ``debug``; without
  it an error's first line is appended instead (``...: DatabaseUnavailable: ...``).
* A retried message logs its reason and its next attempt once ("message 5: ...;
  next attempt in 4 s"), not dramatiq's traceback per attempt.
* E-mail addresses are replaced by ``<address>`` in every line, whoever logged
  it: a last line of defence behind "log messages by their internal number".
* ``json`` writes one object per line (``time``, ``level``, ``logger``,
  ``message``, and ``error`` when there is one) for log collectors.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import datetime, timezone
from typing import Any, TextIO

__all__ = ["configure_logging", "redact", "LOG_FORMATS", "OperatorFormatter", "JsonFormatter"]

LOG_FORMATS = ("text", "json")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_MESSAGE_CALL = re.compile(r"^kw\.advance\((\d+)\)$")
#: Loggers of libraries that talk too much for an operator.
_QUIET = {"alembic": logging.WARNING, "pika": logging.WARNING, "urllib3": logging.WARNING}
#: Loggers that would write mail itself, even with --debug: imapclient's protocol log holds whole
#: messages, aiosmtpd's (the demo's SMTP sink) every envelope's addresses.
_NEVER_VERBOSE = {"imapclient": logging.INFO, "mail.log": logging.ERROR}


def redact(text: str) -> str:
    """``text`` with every e-mail address replaced by ``<address>``."""
    return _ADDRESS.sub("<address>", text)


def _error_line(exc_info: Any) -> str | None:
    if not exc_info or exc_info[1] is None:
        return None
    exc = exc_info[1]
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class OperatorFormatter(logging.Formatter):
    """``time level logger: message`` on one line; the traceback only when ``debug``."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage()).replace("\r", " ").replace("\n", " ")
        line = f"{self.formatTime(record)} {record.levelname} {record.name}: {message}"
        error = _error_line(record.exc_info)
        if error and self.debug:
            return line + "\n" + redact(self.formatException(record.exc_info))  # type: ignore[arg-type]
        if error and error not in message:
            line += f" ({redact(error)})"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        error = _error_line(record.exc_info)
        if error:
            entry["error"] = redact(error)
            if self.debug:
                entry["traceback"] = redact(self.formatException(record.exc_info))  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


class RetryDigest(logging.Filter):
    """Keeps dramatiq's own failure and retry lines from doubling ours.

    A passing error is told once, by the actor wrapper (``App._retrying``:
    the reason and the next attempt), so dramatiq's traceback of it and its
    "Retrying message" line are dropped. A bug is told once as "failed, not
    retried" with its one-line error; the retry middleware's line after it
    is dropped too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._held = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        from klachtwacht.errors import RetryableError

        if record.name.startswith("dramatiq.worker") and record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            subject = _subject(record.args)
            retryable = isinstance(exc, RetryableError)
            self._held.reason = (subject, str(exc), retryable)
            if retryable:
                return False  # told once, by the actor wrapper
            record.msg, record.args = "%s: failed, not retried", (subject,)
            return True
        if record.name.startswith("dramatiq.middleware.retries"):
            held = getattr(self._held, "reason", None)
            self._held.reason = None
            if held is not None and not held[2]:
                return False  # the bug was told already; that it is not retried is the point of it
            if record.msg.startswith("Retries exceeded"):
                subject, reason = (held[0], held[1]) if held else ("a task", "failed")
                record.msg, record.args = "%s: %s; retries exhausted, the sweeper will try again later", (subject, reason)
                return True
            return False  # "Retrying message ...": the actor wrapper told it
        return True


def _subject(args: Any) -> str:
    """``message 5`` for the advance actor's dramatiq message, else the actor call."""
    call = str(args[0]) if isinstance(args, tuple) and args else "a task"
    match = _MESSAGE_CALL.match(call)
    return f"message {match.group(1)}" if match else call


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the moment, so a progress bar that redirects it shows log lines above itself."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(*, verbose: bool = False, debug: bool = False, log_format: str = "text", stream: TextIO | None = None) -> None:
    """Set up the root logger for a command: one handler on standard error."""
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter(debug) if log_format == "json" else OperatorFormatter(debug))
    handler.addFilter(RetryDigest())
    handler.set_name("klachtwacht")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "klachtwacht":  # ours from an earlier call; others' (a test runner's) stay
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose or debug else logging.INFO)
    for name, level in _NEVER_VERBOSE.items():
        logging.getLogger(name).setLevel(level)
    if not debug:
        for name, level in _QUIET.items():
            logging.getLogger(name).setLevel(level)
        logging.getLogger("dramatiq.worker.Worker").setLevel(logging.WARNING)  # "Shutting down..." on every pass
