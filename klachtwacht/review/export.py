"""People's decisions as training records in the corpus format (``classifiers/corpus/FORMAT.md``).

Every message a person decided (review, steekproef or a later correction;
the latest decision that was not undone) becomes one record: the final label
and sub-type, the subject and the stored parsed text. The file is one writer,
named by its stem (``reviews-<organisation>.txt``), so the leave-one-writer-out
evaluation holds the municipality's own mail out as a whole. The export is
the municipality's own data and holds personal data in the text; the sender
is replaced by a placeholder, and nothing of a message reaches a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.config import Config
from klachtwacht.db.models import Message, ReviewDecision, Sighting
from klachtwacht.pipeline import parsed_of

__all__ = ["Reviewed", "reviewed", "record_text", "records_text", "export", "writer_name", "PLACEHOLDER_SENDER"]

#: The ``from`` of every exported record: training does not read the sender, and it is personal data.
PLACEHOLDER_SENDER = "Afzender <afzender@example.invalid>"
_HEADER_BREAK = re.compile(r"[\r\n]+")
_RECORD_LINE = re.compile(r"^(###)", re.MULTILINE)


@dataclass(frozen=True)
class Reviewed:
    """One message as a person decided it, ready to be written as a corpus record."""

    message_pk: int
    organisation: str
    source: str
    label: str
    subtype: str | None
    predicted_label: str | None
    confidence: float | None
    model: str | None
    language: str
    subject: str
    text: str


def writer_name(organisation: str) -> str:
    """``reviews-<organisation>``: the writer (file stem) of an organisation's exported decisions."""
    return "reviews-" + re.sub(r"[^a-z0-9-]+", "-", organisation.lower()).strip("-")


def reviewed(sessions: sessionmaker[Session], config: Config, *, organisation: str | None = None) -> list[Reviewed]:
    """The latest standing decision of every decided message, oldest message first (purged messages left out)."""
    org_of = {m.name: m.organisation for m in config.mailboxes}
    query = (
        select(ReviewDecision, Message)
        .join(Message, Message.id == ReviewDecision.message_pk)
        .where(ReviewDecision.undone_at.is_(None), Message.purged_at.is_(None))
        .order_by(Message.id, ReviewDecision.id)
    )
    latest: dict[int, tuple[ReviewDecision, Message]] = {}
    with sessions() as session:
        for decision, message in session.execute(query):
            latest[message.id] = (decision, message)
        boxes: dict[int, str] = {}
        for pk, mailbox in session.execute(select(Sighting.message_pk, Sighting.mailbox).where(Sighting.message_pk.in_(list(latest))).order_by(Sighting.id)):
            boxes.setdefault(pk, mailbox)
        out = []
        for pk, (decision, message) in latest.items():
            org = org_of.get(boxes.get(pk, ""), "default")
            if (organisation is not None and org != organisation) or not message.parsed:
                continue
            parsed = parsed_of(message)
            language = str((message.classification or {}).get("language") or "nl")
            out.append(Reviewed(
                pk, org, decision.source, decision.final_label, decision.final_subtype, decision.predicted_label, decision.confidence, decision.model,
                language, parsed.subject, parsed.text,
            ))
    return out


def _header(value: str) -> str:
    return _HEADER_BREAK.sub(" ", value).strip()


def record_text(item: Reviewed) -> str:
    """One record; a body line that would start a new record (``###``) is indented by a space."""
    guess = f"{item.predicted_label} ({item.confidence:.2f})" if item.predicted_label and item.confidence is not None else (item.predicted_label or "geen")
    body = _RECORD_LINE.sub(r" \1", item.text.replace("\r\n", "\n").strip("\n"))
    return "\n".join([
        f"### id: {writer_name(item.organisation)}-{item.message_pk}",
        f"label: {item.label}",
        f"subtype: {item.subtype or ''}",
        f"voice: {item.source}",
        "topic: onbekend",
        f"lang: {_header(item.language) or 'nl'}",
        f"from: {PLACEHOLDER_SENDER}",
        f"subject: {_header(item.subject)}",
        f"note: besloten via {item.source}; het model zei {guess} ({_header(item.model or 'onbekend model')})",
        "---",
        body,
        "",
    ])


def records_text(items: Iterable[Reviewed]) -> str:
    return "\n".join(record_text(item) for item in items)


def export(sessions: sessionmaker[Session], config: Config, target: Path, *, organisation: str | None = None) -> dict[Path, int]:
    """Write the decided messages to ``target``; returns the number of records per file written.

    ``target`` a folder: one file ``reviews-<organisation>.txt`` per
    organisation with decisions. ``target`` a file: every decision (of
    ``organisation``, when given) in that one file, its stem the writer.
    """
    items = reviewed(sessions, config, organisation=organisation)
    groups: dict[Path, list[Reviewed]] = {}
    if target.is_dir():
        for item in items:
            groups.setdefault(target / f"{writer_name(item.organisation)}.txt", []).append(item)
    else:
        groups[target] = items
    for path, rows in groups.items():
        _write(path, rows)
    return {path: len(rows) for path, rows in groups.items()}


def _write(path: Path, rows: Sequence[Reviewed]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(records_text(rows), encoding="utf-8")
    tmp.chmod(0o600)  # the municipality's own mail: readable by its owner only
    tmp.replace(path)
