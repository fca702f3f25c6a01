"""Progress on long work: a bar on a terminal, a plain line now and then otherwise.

The API is two calls, so any long loop (a backlog pass, ``train``,
``evaluate``, ``audit``, ``reconcile``) can report without knowing where its
output goes::

    with progress("training", total=epochs) as bar:
        for epoch in range(epochs):
            ...
            bar.update(epoch + 1, note=f"dev F1 {f1:.3f}")

On a terminal (standard error is a TTY) a ``rich`` bar is drawn; otherwise one
plain log line is written every ``every`` seconds and one at the end, so a log
collector gets a few lines, not thousands. ``KLACHTWACHT_PROGRESS=plain`` or
``=off`` forces the plain lines or silence; ``KLACHTWACHT_PROGRESS_EVERY`` sets
the seconds between plain lines.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

__all__ = ["Reporter", "progress", "PlainReporter"]

log = logging.getLogger("klachtwacht.progress")


class Reporter(Protocol):
    """What a long loop calls to report how far it is."""

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        """``done`` units of ``total`` (None: unknown yet) are finished; ``note`` says more."""


class PlainReporter:
    """One line every ``every`` seconds and one at the end: to ``stream``, or as a log line (None)."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None, every: float, clock: Any = time.monotonic) -> None:
        self.label, self.total, self.stream, self.every, self.clock = label, total, stream, every, clock
        self.done, self.note = 0, ""
        self._last = clock()
        self._written: tuple[int, int | None, str] | None = None

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self.done, self.note = done, note
        if total is not None:
            self.total = total
        if self.clock() - self._last >= self.every:
            self._write()

    def line(self) -> str:
        if self.total:
            text = f"{self.label}: {self.done} of {self.total} ({100 * self.done // max(self.total, 1)}%)"
        else:
            text = f"{self.label}: {self.done}"
        return f"{text}, {self.note}" if self.note else text

    def _write(self) -> None:
        self._last = self.clock()
        self._written = (self.done, self.total, self.note)
        if self.stream is None:
            log.info("%s", self.line())
            return
        self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._written != (self.done, self.total, self.note) and (self.done or self.total):
            self._write()


class _RichReporter:
    def __init__(self, bar: Any, task: Any) -> None:
        self.bar, self.task = bar, task

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self.bar.update(self.task, completed=done, total=total, note=note)


class _Silent:
    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        return None


@contextmanager
def progress(label: str, total: int | None = None, *, stream: TextIO | None = None, every: float = 15.0) -> Iterator[Reporter]:
    """Report progress of the work inside the ``with`` block (see the module's docstring)."""
    out = stream or sys.stderr
    mode = os.environ.get("KLACHTWACHT_PROGRESS", "").lower()
    if mode == "off":
        yield _Silent()
        return
    if mode != "plain" and out.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[note]}"))
        with Progress(*columns, console=Console(file=out), transient=False) as bar:
            yield _RichReporter(bar, bar.add_task(label, total=total, note=""))
        return
    every = float(os.environ.get("KLACHTWACHT_PROGRESS_EVERY") or every)
    plain = PlainReporter(label, total, stream, every)
    try:
        yield plain
    finally:
        plain.finish()
