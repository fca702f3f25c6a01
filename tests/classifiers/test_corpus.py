"""The labeled corpus: the shipped files parse, the split is fixed, malformed records are refused by name."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from classifiers.corpus import CORPUS_DIR, REQUIRED, SPLITS, CorpusError, Example, load_corpus, parse_corpus_text, split, split_of
from classifiers.records import LABELS

GOOD = """### id: t-0001
label: klacht
subtype: geen-reactie
voice: oudere, boos
topic: wmo
lang: nl
from: A. Jansen <a.jansen@ziggo.nl>
subject: Nog steeds geen traplift
note: herhaald contact zonder resultaat
---
Ik heb al vier keer gebeld en niemand belt terug.

Met vriendelijke groet,
A. Jansen

### id: t-0002
label: beleidsvraag
subtype: vraag
voice: bewoner, zakelijk
topic: belastingen
lang: nl
from: P. Bakker <p.bakker@example.nl>
subject:
---
Waarom gaat de OZB weer omhoog?
"""


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_corpus()


# -- the shipped corpus ------------------------------------------------------------


def test_the_shipped_corpus_parses_file_by_file() -> None:
    files = sorted(CORPUS_DIR.glob("*.txt"))
    assert files, f"no corpus files in {CORPUS_DIR}"
    for path in files:
        assert parse_corpus_text(path.read_text(encoding="utf-8"), path.name), f"{path.name} holds no records"


def test_the_shipped_corpus_has_at_least_1500_records(corpus: list[Example]) -> None:
    assert len(corpus) >= 1500


def test_ids_are_unique_across_all_files_before_deduplication() -> None:
    ids = [e.id for path in sorted(CORPUS_DIR.glob("*.txt")) for e in parse_corpus_text(path.read_text(encoding="utf-8"), path.name)]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates


def test_labels_are_the_three_labels_and_every_record_has_a_body(corpus: list[Example]) -> None:
    assert {e.label for e in corpus} == set(LABELS)
    assert all(e.body.strip() for e in corpus), [e.id for e in corpus if not e.body.strip()]
    assert all(e.subtype and e.lang for e in corpus)


def test_every_split_holds_all_three_labels(corpus: list[Example]) -> None:
    parts = split(corpus)
    assert set(parts) == set(SPLITS)
    for name in SPLITS:
        assert {e.label for e in parts[name]} == set(LABELS), name
    assert sum(len(v) for v in parts.values()) == len(corpus)


# -- the split ---------------------------------------------------------------------


def _independent_split(example_id: str) -> str:
    bucket = int(hashlib.sha256(example_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "dev" if bucket < 85 else "test"


@pytest.mark.parametrize(("example_id", "expected"), [("bs-0001", "train"), ("bs-0002", "dev"), ("so-0139", "test"), ("gg-0044", "train"), ("x", "test")])
def test_the_split_of_an_id_is_pinned(example_id: str, expected: str) -> None:
    # changing the hash would silently move records between train and test
    assert split_of(example_id) == expected


def test_the_split_depends_only_on_the_id(corpus: list[Example]) -> None:
    for example in corpus:
        assert example.split == split_of(example.id) == _independent_split(example.id)
    moved = Example(**{**{f: getattr(corpus[0], f) for f in Example.__slots__}, "label": "overig", "body": "anders", "source": "elders.txt"})
    assert moved.split == corpus[0].split


def test_the_split_is_about_70_15_15() -> None:
    counts = Counter(split_of(f"gen-{i:05d}") for i in range(5000))
    assert 0.67 < counts["train"] / 5000 < 0.73
    assert 0.13 < counts["dev"] / 5000 < 0.17
    assert 0.13 < counts["test"] / 5000 < 0.17


def test_adding_records_does_not_move_existing_ones(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    before = {e.id: e.split for e in load_corpus(tmp_path)}
    (tmp_path / "0-new.txt").write_text(GOOD.replace("t-0001", "t-9001").replace("t-0002", "t-9002").replace("vier keer", "vijf keer").replace("OZB", "afvalheffing"), encoding="utf-8")
    after = {e.id: e.split for e in load_corpus(tmp_path)}
    assert {k: after[k] for k in before} == before
    assert len(after) == 4


# -- parsing ----------------------------------------------------------------------


def test_a_good_record_is_parsed_field_by_field() -> None:
    first, second = parse_corpus_text(GOOD, "goed.txt")
    assert first == Example(
        id="t-0001",
        label="klacht",
        subtype="geen-reactie",
        voice="oudere, boos",
        topic="wmo",
        lang="nl",
        sender="A. Jansen <a.jansen@ziggo.nl>",
        subject="Nog steeds geen traplift",
        body="Ik heb al vier keer gebeld en niemand belt terug.\n\nMet vriendelijke groet,\nA. Jansen",
        source="goed.txt",
    )
    assert second.subject == ""
    assert second.body == "Waarom gaat de OZB weer omhoog?"


def test_duplicate_texts_are_dropped_and_duplicate_ids_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.txt").write_text(GOOD.replace("t-0001", "t-0003").replace("t-0002", "t-0004"), encoding="utf-8")
    assert [e.id for e in load_corpus(tmp_path)] == ["t-0001", "t-0002"]
    (tmp_path / "c.txt").write_text(GOOD.replace("vier keer", "zes keer"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c\.txt: id t-0001 is also used in a\.txt"):
        load_corpus(tmp_path)


def _assert_names_file_and_id(exc: pytest.ExceptionInfo[CorpusError], source: str, record_id: str) -> None:
    message = str(exc.value)
    assert source in message
    assert record_id in message


def test_a_record_without_the_separator_line_is_refused_by_file_and_id() -> None:
    broken = GOOD.replace("note: herhaald contact zonder resultaat\n---\n", "note: herhaald contact zonder resultaat\n")
    with pytest.raises(CorpusError, match="'---'") as exc:
        parse_corpus_text(broken, "kapot.txt")
    _assert_names_file_and_id(exc, "kapot.txt", "t-0001")


def test_a_record_with_an_unknown_label_is_refused_by_file_and_id() -> None:
    broken = GOOD.replace("label: beleidsvraag", "label: vraag")
    with pytest.raises(CorpusError, match="unknown label 'vraag'") as exc:
        parse_corpus_text(broken, "kapot.txt")
    _assert_names_file_and_id(exc, "kapot.txt", "t-0002")


@pytest.mark.parametrize("key", REQUIRED)
def test_a_record_missing_a_required_key_is_refused_by_file_id_and_key(key: str) -> None:
    lines = GOOD.split("\n")
    head_end = lines.index("---", lines.index("### id: t-0002"))
    kept = [line for i, line in enumerate(lines) if not (lines.index("### id: t-0002") < i < head_end and line.startswith(f"{key}:"))]
    with pytest.raises(CorpusError, match=f"missing {key}") as exc:
        parse_corpus_text("\n".join(kept), "kapot.txt")
    _assert_names_file_and_id(exc, "kapot.txt", "t-0002")


def test_a_header_line_without_a_colon_is_refused_by_file_and_id() -> None:
    broken = GOOD.replace("topic: wmo\n", "topic wmo\n")
    with pytest.raises(CorpusError, match="without ':'") as exc:
        parse_corpus_text(broken, "kapot.txt")
    _assert_names_file_and_id(exc, "kapot.txt", "t-0001")


def test_a_malformed_file_in_a_corpus_folder_is_named_by_load_corpus(tmp_path: Path) -> None:
    (tmp_path / "goed.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "slecht.txt").write_text(GOOD.replace("t-000", "s-000").replace("label: klacht", "label: Klacht!"), encoding="utf-8")
    with pytest.raises(CorpusError) as exc:
        load_corpus(tmp_path)
    _assert_names_file_and_id(exc, "slecht.txt", "s-0001")


def test_corpus_error_is_a_value_error() -> None:
    assert issubclass(CorpusError, ValueError)


def test_a_record_with_an_empty_id_is_refused() -> None:
    broken = GOOD.replace("### id: t-0002", "### id:")
    with pytest.raises(CorpusError) as exc:
        parse_corpus_text(broken, "kapot.txt")
    assert "kapot.txt" in str(exc.value)


def test_text_before_the_first_record_is_refused() -> None:
    with pytest.raises(CorpusError, match="kapot.txt"):
        parse_corpus_text("label: klacht\n---\nverdwaalde tekst\n\n" + GOOD, "kapot.txt")


# -- writers and new writers' files ----------------------------------------------------


def test_every_corpus_file_is_one_writer(corpus: list[Example]) -> None:
    from classifiers.corpus import by_writer

    writers = by_writer(corpus)
    assert set(writers) == {p.stem for p in CORPUS_DIR.glob("*.txt")}
    assert all(e.writer == Path(e.source).stem for e in corpus)


def test_a_new_writers_file_is_added_without_its_malformed_records(tmp_path: Path) -> None:
    from classifiers.corpus import add_writer_file

    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    (corpus_dir / "oud.txt").write_text(GOOD, encoding="utf-8")
    broken = GOOD.replace("t-0001", "n-0001").replace("t-0002", "n-0002").replace("vier keer", "zes keer").replace("OZB", "hondenbelasting")
    broken += "\n### id: n-0003\nlabel: klacht\nsubject: geen scheiding\nDit record mist zijn kopregels en de streepjes.\n"
    broken += "\n### id: n-0004\nlabel: ruzie\nsubtype: x\nvoice: x\ntopic: x\nlang: nl\nfrom: x\nsubject: x\n---\nOnbekend label.\n"
    broken += "\n### id: t-0001\nlabel: overig\nsubtype: overig\nvoice: x\ntopic: x\nlang: nl\nfrom: x\nsubject: x\n---\nEen id die al bestaat.\n"
    broken += GOOD.split("### id: t-0002")[1].join(["\n### id: n-0005", ""])  # the text of t-0002 again
    source = tmp_path / "w-nieuw.txt"
    source.write_text(broken, encoding="utf-8")
    intake = add_writer_file(source, corpus_dir)
    assert intake.writer == "w-nieuw"
    assert intake.kept == 2
    assert [problem.split(":")[0] for problem in intake.dropped] == ["n-0003", "n-0004", "t-0001", "n-0005"]
    added = load_corpus(corpus_dir)
    assert sorted(e.id for e in added if e.writer == "w-nieuw") == ["n-0001", "n-0002"]
