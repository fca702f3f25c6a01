"""Progress without a terminal: a plain line now and then, and one at the end."""

from __future__ import annotations

import io

from klachtwacht.progress import PlainReporter, progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_writes_a_line_per_interval_and_one_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()
    reporter = PlainReporter("training", 20, stream, every=10.0, clock=clock)
    for epoch in range(1, 21):
        clock.now += 1.0
        reporter.update(epoch, note=f"epoch {epoch}")
    reporter.finish()
    lines = stream.getvalue().splitlines()
    assert lines == ["training: 10 of 20 (50%), epoch 10", "training: 20 of 20 (100%), epoch 20"]


def test_progress_with_nothing_done_writes_nothing() -> None:
    stream = io.StringIO()
    with progress("ingest pass", stream=stream):
        pass
    assert stream.getvalue() == ""


def test_progress_to_a_stream_that_is_not_a_terminal_is_plain() -> None:
    stream = io.StringIO()
    with progress("evaluate", total=3, stream=stream, every=3600) as bar:
        for done in range(1, 4):
            bar.update(done)
    assert stream.getvalue() == "evaluate: 3 of 3 (100%)\n"
