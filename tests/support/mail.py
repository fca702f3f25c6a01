"""Building realistic test mail from the labeled corpus."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from classifiers.corpus import Example, load_corpus

__all__ = ["corpus_examples", "make_mail", "mails"]

_CACHE: list[Example] = []


def corpus_examples() -> list[Example]:
    if not _CACHE:
        _CACHE.extend(load_corpus())
    return _CACHE


def make_mail(
    example: Example | None = None,
    *,
    to: Sequence[str] = ("wethouder@gemeente-veenstad.nl",),
    subject: str | None = None,
    body: str | None = None,
    sender: str | None = None,
    message_id: str | None = None,
    date: datetime | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """One message; from a corpus example unless subject/body/sender are given."""
    msg = EmailMessage()
    msg["From"] = sender or (example.sender if example else "Burger <burger@example.nl>")
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject if subject is not None else (example.subject if example else "Test")
    msg["Date"] = format_datetime(date or datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="example.nl")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body if body is not None else (example.body if example else "Hallo"))
    if attachment is not None:
        msg.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return bytes(msg)


def mails(count: int, seed: int = 1, label: str | None = None) -> Iterator[tuple[Example, bytes]]:
    """``count`` varied messages from the corpus (of ``label`` when given), deterministic."""
    rng = random.Random(seed)
    pool = [e for e in corpus_examples() if label is None or e.label == label]
    rng.shuffle(pool)
    start = datetime(2026, 2, 1, 8, 0, tzinfo=timezone.utc)
    for i in range(count):
        example = pool[i % len(pool)]
        yield example, make_mail(example, message_id=f"<test-{seed}-{i}@example.nl>", date=start + timedelta(minutes=17 * i))
