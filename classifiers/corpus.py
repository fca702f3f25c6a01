"""The labeled training corpus: reading, checking, deduplicating and splitting.

Records live in ``classifiers/corpus/*.txt`` in the format of
``corpus/FORMAT.md``. The split into train, dev and test is fixed by a hash
of each record's id, so it never changes when records are added elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.records import LABELS

__all__ = ["Example", "CORPUS_DIR", "load_corpus", "parse_corpus_text", "split_of", "split", "datasheet", "CorpusError"]

CORPUS_DIR = Path(__file__).with_name("corpus")
REQUIRED = ("label", "subtype", "voice", "topic", "lang", "from", "subject")
SPLITS = ("train", "dev", "test")
_RECORD = re.compile(r"^### id:\s*(\S+)\s*$", re.MULTILINE)
_NORMALISE = re.compile(r"\W+", re.UNICODE)
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


class CorpusError(ValueError):
    """Raised when a corpus record is malformed; the message names the file and the id."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labeled message of the corpus."""

    id: str
    label: str
    subtype: str
    voice: str
    topic: str
    lang: str
    sender: str
    subject: str
    body: str
    source: str

    @property
    def split(self) -> str:
        return split_of(self.id)


def split_of(example_id: str) -> str:
    """The fixed split of a record: 70% train, 15% dev, 15% test, by a hash of its id."""
    bucket = int(hashlib.sha256(example_id.encode()).hexdigest()[:8], 16) % 100
    if bucket < 70:
        return "train"
    return "dev" if bucket < 85 else "test"


def parse_corpus_text(text: str, source: str) -> list[Example]:
    """Parse the records in ``text`` (from file ``source``)."""
    examples = []
    starts = list(_RECORD.finditer(text))
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.startswith("### id:") and not _RECORD.match(line):
            raise CorpusError(f"{source}: line {line_no}: a record header without an id")
    before = text[: starts[0].start()] if starts else text
    if before.strip():
        raise CorpusError(f"{source}: text before the first '### id:' record")
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        chunk = text[match.end() : end].strip("\n")
        record_id = match.group(1)
        parts = _SEPARATOR.split(chunk, maxsplit=1)
        if len(parts) != 2:
            raise CorpusError(f"{source}: record {record_id}: no '---' line between headers and body")
        head, body = parts
        fields: dict[str, str] = {}
        for line in head.strip("\n").splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise CorpusError(f"{source}: record {record_id}: header line without ':': {line!r}")
            fields[key.strip().lower()] = value.strip()
        missing = [k for k in REQUIRED if k not in fields]
        if missing:
            raise CorpusError(f"{source}: record {record_id}: missing {', '.join(missing)}")
        if fields["label"] not in LABELS:
            raise CorpusError(f"{source}: record {record_id}: unknown label {fields['label']!r}")
        examples.append(
            Example(
                id=record_id,
                label=fields["label"],
                subtype=fields["subtype"].lower() or "overig",
                voice=fields["voice"],
                topic=fields["topic"],
                lang=fields["lang"].lower() or "nl",
                sender=fields["from"],
                subject=fields["subject"],
                body=body.strip("\n"),
                source=source,
            )
        )
    return examples


def _fingerprint(example: Example) -> str:
    return _NORMALISE.sub(" ", (example.subject + " " + example.body).lower()).strip()


def load_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    """Every record of every corpus file, with duplicate ids refused and duplicate texts dropped."""
    examples: list[Example] = []
    seen_ids: dict[str, str] = {}
    seen_texts: set[str] = set()
    for path in sorted(directory.glob("*.txt")):
        for example in parse_corpus_text(path.read_text(encoding="utf-8"), path.name):
            if example.id in seen_ids:
                raise CorpusError(f"{path.name}: id {example.id} is also used in {seen_ids[example.id]}")
            seen_ids[example.id] = path.name
            fingerprint = _fingerprint(example)
            if fingerprint in seen_texts:
                continue
            seen_texts.add(fingerprint)
            examples.append(example)
    return examples


def split(examples: Iterable[Example]) -> dict[str, list[Example]]:
    """The examples by split name."""
    out: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for example in examples:
        out[example.split].append(example)
    return out


def datasheet(examples: Sequence[Example]) -> str:
    """A short datasheet: counts per label, sub-type, language, split, voice and length."""
    lines = [f"records: {len(examples)}"]

    def table(title: str, counter: Counter[str], limit: int = 40) -> None:
        lines.append(f"\n{title}:")
        for key, count in counter.most_common(limit):
            lines.append(f"  {key:32} {count:5}")

    table("per label", Counter(e.label for e in examples))
    table("per label/subtype", Counter(f"{e.label}/{e.subtype}" for e in examples), 80)
    table("per language", Counter(e.lang for e in examples))
    table("per split and label", Counter(f"{e.split}/{e.label}" for e in examples))
    table("per topic (top 30)", Counter(e.topic.split(",")[0].strip().lower() for e in examples), 30)
    voices = Counter(word.strip().lower() for e in examples for word in e.voice.split(","))
    table("voice words (top 30)", voices, 30)
    lengths = sorted(len(e.body.split()) for e in examples)
    if lengths:
        def pct(p: float) -> int:
            return lengths[min(len(lengths) - 1, int(p * len(lengths)))]

        lines.append(f"\nbody length in words: min {lengths[0]}, median {pct(0.5)}, p90 {pct(0.9)}, max {lengths[-1]}")
        buckets = Counter("<20" if n < 20 else "20-79" if n < 80 else "80-199" if n < 200 else "200+" for n in lengths)
        table("length buckets", buckets)
    return "\n".join(lines)
