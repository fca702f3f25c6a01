"""``klachtwacht train`` is reproducible bit for bit, and calibrates on held-out writers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from classifiers.corpus import CORPUS_DIR, parse_corpus_text


def small_corpus(target: Path, per_writer: int = 60) -> Path:
    """Three writers' worth of the shipped corpus, in a folder of its own."""
    target.mkdir()
    for name in ("bestuur.txt", "sociaal.txt", "ruimte.txt"):
        text = (CORPUS_DIR / name).read_text(encoding="utf-8")
        records = text.split("\n### id:")
        (target / name).write_text("\n### id:".join(records[:per_writer]) + "\n", encoding="utf-8")
        assert len(parse_corpus_text((target / name).read_text(encoding="utf-8"), name)) == per_writer
    return target


def digest_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from classifiers.train import train_model

    root = tmp_path_factory.mktemp("train")
    corpus = small_corpus(root / "corpus")
    first, second = root / "een", root / "twee"
    train_model(first, corpus_dir=corpus, progress=False)
    train_model(second, corpus_dir=corpus, progress=False)
    return first, second


def test_training_twice_gives_the_same_bytes(two_models: tuple[Path, Path]) -> None:
    first, second = two_models
    assert digest_of(first) == digest_of(second)
    assert (first / "meta.json").exists() and (first / "pipeline" / "textcat" / "coef.npy").exists()


def test_the_trained_model_loads_and_classifies(two_models: tuple[Path, Path]) -> None:
    from classifiers.classifier import Classifier

    model = Classifier.load(two_models[0])
    result = model.classify("Traplift", "Ik heb al vier keer gebeld over mijn traplift en niemand belt terug.")
    assert abs(sum(result.scores.values()) - 1.0) < 1e-6
    meta = json.loads((two_models[0] / "meta.json").read_text(encoding="utf-8"))
    assert 0.0 <= meta["review_threshold"] <= meta["register_threshold"] <= 1.0
    assert "20" not in meta["version"].split("+")[0]  # no date in the version: the same corpus gives the same model


def test_the_shipped_model_is_small_enough_for_the_repository() -> None:
    from classifiers.classifier import DEFAULT_MODEL_DIR

    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file())
    assert size < 50 * 1024 * 1024


def test_training_refuses_a_corpus_of_one_writer(tmp_path: Path) -> None:
    from classifiers.train import train_model

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alleen.txt").write_text((CORPUS_DIR / "bestuur.txt").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ValueError, match="two writers"):
        train_model(tmp_path / "model", corpus_dir=corpus, progress=False)


def test_the_shipped_operating_points_are_those_its_stored_held_out_scores_give() -> None:
    """What 'klachtwacht train' would write into meta.json from the shipped leave-one-writer-out scores."""
    import numpy as np

    from classifiers.classifier import DEFAULT_MODEL_DIR, ModelMeta, forced_review, model_input
    from classifiers.corpus import load_corpus
    from classifiers.lowo import calibrated, fit_temperature_logits, operating_points
    from classifiers.records import LABELS
    from classifiers.train import OOF_FILE, corpus_digest

    meta = ModelMeta.load(DEFAULT_MODEL_DIR / "meta.json")
    assert meta.corpus_sha256 == corpus_digest()
    examples = load_corpus()
    truth = [e.label for e in examples]
    oof = np.load(DEFAULT_MODEL_DIR / OOF_FILE, allow_pickle=False).astype(np.float64)
    temperature = fit_temperature_logits(oof, [LABELS.index(t) for t in truth])
    forced = [forced_review(model_input(e.subject, e.body).text) for e in examples]
    assert temperature == meta.temperature
    assert operating_points(calibrated(oof, temperature), truth, forced) == (meta.register_threshold, meta.review_threshold, meta.klacht_label_threshold)
