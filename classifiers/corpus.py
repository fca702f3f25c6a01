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

__all__ = ["Example", "CORPUS_DIR", "load_corpus", "parse_corpus_text", "split_of", "split", "by_writer", "datasheet", "CorpusError", "Intake", "add_writer_file", "comparison", "FIRST_WRITERS"]

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

    @property
    def writer(self) -> str:
        """Who wrote the record: one corpus file is one writer, named by the file's stem."""
        return Path(self.source).stem


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


def load_corpus(directory: Path = CORPUS_DIR, extra: Sequence[Path] = ()) -> list[Example]:
    """Every record of every corpus file, with duplicate ids refused and duplicate texts dropped.

    ``extra`` files (reviewed decisions, ``klachtwacht train --with-reviews``)
    are read after the corpus, in the order given; each is one writer.
    """
    examples: list[Example] = []
    seen_ids: dict[str, str] = {}
    seen_texts: set[str] = set()
    corpus_names = {p.name for p in directory.glob("*.txt")}
    for path in extra:
        if path.name in corpus_names:
            raise CorpusError(f"{path}: a corpus file of the same name (writer {path.stem}) exists; rename the file")
    for path in [*sorted(directory.glob("*.txt")), *extra]:
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


@dataclass(frozen=True)
class Intake:
    """What :func:`add_writer_file` did with a new writer's file."""

    writer: str
    kept: int
    dropped: list[str]  # "<id>: <problem>" per record left out


def add_writer_file(source: Path, directory: Path = CORPUS_DIR) -> Intake:
    """Copy a new writer's corpus file into ``directory``, record by record, leaving out malformed ones.

    A record is left out when it does not parse, when its id is already used
    in the corpus, or when its text duplicates an earlier record.
    """
    text = source.read_text(encoding="utf-8")
    existing = {p.name: p for p in directory.glob("*.txt") if p.name != source.name}
    used_ids = {e.id for path in existing.values() for e in parse_corpus_text(path.read_text(encoding="utf-8"), path.name)}
    used_texts = {_fingerprint(e) for path in existing.values() for e in parse_corpus_text(path.read_text(encoding="utf-8"), path.name)}
    starts = [m.start() for m in re.finditer(r"^### id:", text, re.MULTILINE)]
    kept_chunks: list[str] = []
    dropped: list[str] = []
    for i, start in enumerate(starts):
        chunk = text[start : starts[i + 1] if i + 1 < len(starts) else len(text)].rstrip("\n") + "\n"
        first = chunk.split("\n", 1)[0]
        try:
            (example,) = parse_corpus_text(chunk, source.name)
        except (CorpusError, ValueError) as exc:
            dropped.append(f"{first[7:].strip() or '?'}: {exc}")
            continue
        if example.id in used_ids:
            dropped.append(f"{example.id}: id already used")
            continue
        if _fingerprint(example) in used_texts:
            dropped.append(f"{example.id}: same text as an earlier record")
            continue
        used_ids.add(example.id)
        used_texts.add(_fingerprint(example))
        kept_chunks.append(chunk)
    (directory / source.name).write_text("\n".join(kept_chunks), encoding="utf-8")
    return Intake(source.stem, len(kept_chunks), dropped)


def by_writer(examples: Iterable[Example]) -> dict[str, list[Example]]:
    """The examples by writer, writers in name order."""
    out: dict[str, list[Example]] = {}
    for example in sorted(examples, key=lambda e: e.writer):
        out.setdefault(example.writer, []).append(example)
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
    table("per writer (corpus file)", Counter(e.writer for e in examples), 80)
    lengths = sorted(len(e.body.split()) for e in examples)
    if lengths:
        def pct(p: float) -> int:
            return lengths[min(len(lengths) - 1, int(p * len(lengths)))]

        lines.append(f"\nbody length in words: min {lengths[0]}, median {pct(0.5)}, p90 {pct(0.9)}, max {lengths[-1]}")
        buckets = Counter("<20" if n < 20 else "20-79" if n < 80 else "80-199" if n < 200 else "200+" for n in lengths)
        table("length buckets", buckets)
    return "\n".join(lines)


#: The eight writers of the first corpus; every later file is a new writer.
FIRST_WRITERS = ("bestuur", "dienstverlening", "extra-a", "extra-b", "grensgevallen", "ruimte", "sociaal", "stemmen")
_GREETING = re.compile(r"^\s*(?:geachte|beste|hallo|hoi|goedemorgen|goedemiddag|goedenavond|dag|l\.s\.|dear)\b", re.IGNORECASE)


def _style(examples: Sequence[Example]) -> dict[str, str]:
    lengths = sorted(len(e.body.split()) for e in examples)
    n = len(examples) or 1

    def pct(p: float) -> int:
        return lengths[min(len(lengths) - 1, int(p * len(lengths)))] if lengths else 0

    openings = [_GREETING.match(e.body) for e in examples]
    greetings = Counter(m.group(0).strip().lower() if m else "(none)" for m in openings)
    labels = Counter(e.label for e in examples)
    return {
        "records": str(len(examples)),
        "klacht/beleidsvraag/overig": "/".join(f"{labels[label] / n:.0%}" for label in LABELS),
        "words median / p90 / max": f"{pct(0.5)} / {pct(0.9)} / {lengths[-1] if lengths else 0}",
        "over 300 words": f"{sum(1 for x in lengths if x > 300) / n:.0%}",
        "under 20 words": f"{sum(1 for x in lengths if x < 20) / n:.0%}",
        "opens Geachte": f"{greetings['geachte'] / n:.0%}",
        "no greeting": f"{greetings['(none)'] / n:.0%}",
        "paragraphs per record": f"{sum(e.body.count(chr(10) + chr(10)) + 1 for e in examples) / n:.1f}",
        "sub-types used": str(len({e.subtype for e in examples})),
        "languages": ", ".join(f"{k} {v}" for k, v in Counter(e.lang for e in examples).most_common(6)),
    }


def comparison(examples: Sequence[Example]) -> str:
    """Per-writer counts and the new writers' length, genre and style against the first corpus."""
    old = [e for e in examples if e.writer in FIRST_WRITERS]
    new = [e for e in examples if e.writer not in FIRST_WRITERS]
    lines = [f"{'':28}{'first corpus':>22}{'new writers':>22}"]
    old_style, new_style = _style(old), _style(new)
    for key in old_style:
        if key != "languages":
            lines.append(f"{key:28}{old_style[key]:>22}{new_style[key]:>22}")
    lines.append(f"languages, first corpus:    {old_style['languages']}")
    lines.append(f"languages, new writers:     {new_style['languages']}")
    lines.append("\nper writer: records, klacht/beleidsvraag/overig, median words, over 300 words, opens Geachte")
    for writer, mine in by_writer(examples).items():
        st = _style(mine)
        lines.append(f"  {writer:24}{st['records']:>6}  {st['klacht/beleidsvraag/overig']:>14}  {st['words median / p90 / max'].split(' / ', 1)[0]:>5}  {st['over 300 words']:>5}  {st['opens Geachte']:>5}")
    genres_old = Counter(f"{e.label}/{e.subtype}" for e in old)
    genres_new = Counter(f"{e.label}/{e.subtype}" for e in new)
    lines.append("\ngenre (label/sub-type), share of records: first corpus, new writers")
    for key in sorted(set(genres_old) | set(genres_new), key=lambda k: -(genres_new[k] + genres_old[k])):
        lines.append(f"  {key:32}{genres_old[key] / max(1, len(old)):8.1%}{genres_new[key] / max(1, len(new)):8.1%}")
    return "\n".join(lines)
