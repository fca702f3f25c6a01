"""People's decisions as corpus records: ``reviews export``, ``train --with-reviews``, ``evaluate --reviews``."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_desk import Desk

from classifiers.corpus import CORPUS_DIR, CorpusError, load_corpus, parse_corpus_text
from klachtwacht.cli import main
from klachtwacht.review import record_decision, undo
from klachtwacht.review.export import PLACEHOLDER_SENDER, export
from klachtwacht.review.steekproef import confirm_sample, draw

HOSTILE_BODY = "Geachte heer,\n### id: ingevoegd\nIk klaag over de behandeling.\n---\nGroet, Ria Jansen, Dorpsstraat 1"


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    desk = Desk(tmp_path, db_url)
    yield desk
    desk.close()


def _decided(desk: Desk) -> dict[str, int]:
    klacht = desk.arrive(p=0.6, subject="Behandeling Wmo", body=HOSTILE_BODY)
    record_decision(desk.sessions, desk.flow, klacht, label="klacht", subtype="behandeling", actor="ria")
    vraag = desk.arrive(p=0.6, subject="OZB", body="Waarom gaat de OZB weer omhoog?")
    record_decision(desk.sessions, desk.flow, vraag, label="beleidsvraag", answerer="wethouder", actor="ria")
    undone = desk.arrive(p=0.6, subject="Weg", body="Dit besluit wordt teruggedraaid.")
    undo(desk.sessions, desk.flow, record_decision(desk.sessions, desk.flow, undone, label="overig", subtype="spam", actor="ria"), actor="ria")
    sampled = desk.arrive(label="overig", p=0.97, subtype="nieuwsbrief", subject="Nieuwsbrief maart", body="Het laatste nieuws uit de gemeente.")
    (sample_id,) = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=1, seed=0)
    confirm_sample(desk.sessions, desk.flow, sample_id, label="overig", subtype="nieuwsbrief", actor="coord")
    return {"klacht": klacht, "vraag": vraag, "undone": undone, "sampled": sampled}


def test_export_writes_every_standing_decision_as_a_corpus_record_without_the_sender(desk: Desk, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pks = _decided(desk)
    caplog.set_level(logging.DEBUG)
    written = export(desk.sessions, desk.config, tmp_path)
    path = tmp_path / "reviews-default.txt"
    assert written == {path: 3}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    records = {e.id: e for e in parse_corpus_text(text, path.name)}
    assert set(records) == {f"reviews-default-{pks[k]}" for k in ("klacht", "vraag", "sampled")}
    klacht = records[f"reviews-default-{pks['klacht']}"]
    assert (klacht.label, klacht.subtype, klacht.subject, klacht.sender, klacht.writer) == ("klacht", "behandeling", "Behandeling Wmo", PLACEHOLDER_SENDER, "reviews-default")
    assert "Ik klaag over de behandeling." in klacht.body and " ### id: ingevoegd" in klacht.body
    assert records[f"reviews-default-{pks['sampled']}"].voice == "steekproef"
    assert "ria@example.nl" not in text
    assert "Dorpsstraat" not in caplog.text and "klaag" not in caplog.text


def test_the_export_command_writes_the_file_and_names_its_writer(desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _decided(desk)
    target = tmp_path / "out" / "reviews-veenstad.txt"
    assert main(["reviews", "export", str(target), "--config", str(tmp_path / "klachtwacht.toml")]) == 0
    assert capsys.readouterr().out.strip() == f"3 records written to {target} (writer reviews-veenstad)"
    assert len(parse_corpus_text(target.read_text(encoding="utf-8"), target.name)) == 3


def _small_corpus(target: Path, per_writer: int) -> Path:
    target.mkdir()
    for name in ("bestuur.txt", "sociaal.txt", "ruimte.txt"):
        records = (CORPUS_DIR / name).read_text(encoding="utf-8").split("\n### id:")
        (target / name).write_text("\n### id:".join(records[:per_writer]) + "\n", encoding="utf-8")
    return target


def test_a_review_file_named_like_a_corpus_writer_is_refused(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path / "corpus", 3)
    clash = tmp_path / "bestuur.txt"
    clash.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match="same name"):
        load_corpus(corpus, [clash])


@pytest.mark.slow
def test_train_with_reviews_adds_them_as_one_more_writer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path, f"sqlite:///{tmp_path / 'kw.db'}")
    _decided(desk)
    desk.close()
    reviews = tmp_path / "reviews-default.txt"
    assert main(["reviews", "export", str(reviews), "--config", str(tmp_path / "klachtwacht.toml")]) == 0
    corpus = _small_corpus(tmp_path / "corpus", 20)
    examples = load_corpus(corpus, [reviews])
    assert sum(e.writer == "reviews-default" for e in examples) == 3
    capsys.readouterr()
    model = tmp_path / "model"
    assert main(["train", "--corpus", str(corpus), "--output", str(model), "--with-reviews", str(reviews)]) == 0
    summary = capsys.readouterr().out
    assert "of 4 writers" in summary and "3 reviewed records from reviews-default" in summary
    from classifiers.train import corpus_digest

    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    assert meta["corpus_sha256"] == corpus_digest(corpus, [reviews]) != corpus_digest(corpus)


REVIEWED = """### id: rv-1
label: klacht
subtype: melding-genegeerd
voice: review
topic: onbekend
lang: nl
from: Afzender <afzender@example.invalid>
subject: Lantaarnpaal
---
Ik heb de kapotte lantaarnpaal voor ons huis al drie keer gemeld en niemand doet iets. Ik ben het zat.

### id: rv-2
label: beleidsvraag
subtype: vraag
voice: review
topic: onbekend
lang: nl
from: Afzender <afzender@example.invalid>
subject: OZB
---
Geachte wethouder, waarom gaat de OZB weer omhoog? Wat is het beleid van het college voor de komende jaren?

### id: rv-3
label: overig
subtype: bezwaar
voice: steekproef
topic: onbekend
lang: nl
from: Afzender <afzender@example.invalid>
subject: Bezwaar
---
Hierbij maak ik bezwaar tegen de beschikking van 3 maart met kenmerk 2026-0113.
"""


def test_evaluate_reviews_reports_per_label_figures_and_the_agreement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "reviews-veenstad.txt"
    path.write_text(REVIEWED, encoding="utf-8")
    assert main(["evaluate", "--reviews", str(path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["reviews"]
    assert figures["n"] == 3 and set(figures["per_class"]) == {"klacht", "beleidsvraag", "overig"}
    assert figures["per_class"]["klacht"]["support"] == 1
    assert figures["agreement"] == figures["accuracy"] == sum(figures["confusion"][t][t] for t in figures["confusion"]) / 3
    assert figures["agreement"] >= 2 / 3  # the shipped model knows these textbook cases
    assert main(["evaluate", "--reviews", str(path)]) == 0
    out = capsys.readouterr().out
    assert "on people's decisions (reviews-veenstad)" in out and "agreement with people's decisions:" in out
    assert "leave-one-writer-out" not in out


def test_evaluate_reviews_without_a_file_reads_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path, f"sqlite:///{tmp_path / 'kw.db'}")
    _decided(desk)
    desk.close()
    assert main(["evaluate", "--reviews", "--json", "--config", str(tmp_path / "klachtwacht.toml")]) == 0
    assert json.loads(capsys.readouterr().out)["reviews"]["n"] == 3
