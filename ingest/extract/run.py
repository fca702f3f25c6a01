"""Running a reader: in a process of its own with a timeout (the default), or in this one (the test double)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from ingest.extract.limits import DEFAULT_LIMITS, Limits
from ingest.extract.result import Extraction

__all__ = ["Extractor", "ProcessExtractor", "InProcessExtractor", "default_extractor"]

log = logging.getLogger(__name__)

_ROOT = str(Path(__file__).resolve().parents[2])  # the directory that holds the ingest package


class Extractor(Protocol):
    """Reads the text of one attachment of a known kind."""

    limits: Limits

    def extract(self, kind: str, data: bytes) -> Extraction: ...


def _too_large(data: bytes, limits: Limits) -> Extraction | None:
    if len(data) > limits.max_bytes:
        return Extraction("", False, ("too large to read: %d bytes (limit %d)" % (len(data), limits.max_bytes),))
    return None


class ProcessExtractor:
    """Each attachment in a fresh ``python -m ingest.extract.worker`` process, killed with its children at the timeout."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits

    def extract(self, kind: str, data: bytes) -> Extraction:
        refused = _too_large(data, self.limits)
        if refused is not None:
            return refused
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
        env["OMP_THREAD_LIMIT"] = "1"  # tesseract: one thread each, the machine is shared
        command = [sys.executable, "-m", "ingest.extract.worker", kind, json.dumps(dataclasses.asdict(self.limits))]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            out, _ = process.communicate(data, timeout=self.limits.timeout + 15)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            log.warning("attachment extraction (%s) timed out after %d s", kind, int(self.limits.timeout))
            return Extraction("", False, ("reading it took longer than %d s and was stopped" % int(self.limits.timeout),))
        finally:
            _kill_group(process)
        if process.returncode != 0:
            log.warning("attachment extraction (%s) ended with exit status %s", kind, process.returncode)
            how = "was stopped by signal %d" % -process.returncode if process.returncode < 0 else "ended with exit status %d" % process.returncode
            return Extraction("", False, ("the reading process %s (out of memory or time?)" % how,))
        try:
            return Extraction.from_json(json.loads(out.decode("utf-8")))
        except (ValueError, AttributeError) as exc:
            return Extraction("", False, ("the reading process gave no readable answer (%s)" % type(exc).__name__,))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """End the process and whatever it started (tesseract, pdftoppm)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    process.wait()


class InProcessExtractor:
    """The readers called directly, without isolation: for unit tests and benchmarks of the readers."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits

    def extract(self, kind: str, data: bytes) -> Extraction:
        from ingest.extract.worker import run

        return _too_large(data, self.limits) or run(kind, data, self.limits)


_DEFAULT: list[Extractor] = []


def default_extractor() -> Extractor:
    """The process extractor with the default limits, made once."""
    if not _DEFAULT:
        _DEFAULT.append(ProcessExtractor())
    return _DEFAULT[0]
