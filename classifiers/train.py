"""Training the shipped model from the corpus, reproducibly (seeded, deterministic solvers).

Steps: prepare every text as in use and featurise it (and its segments) once; score every writer
with a model trained on the other writers (leave-one-writer-out); fit the
temperature and choose the klacht label threshold and the register/review
operating points on those out-of-fold scores, so they hold for writers the
model has not seen; fit the shipped heads on the train and dev splits (the
test split stays out, for the fixed-split report); store pipeline and meta.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from classifiers.classifier import DEFAULT_MODEL_DIR, Classifier, ModelMeta, forced_review, model_input, model_text
from classifiers.corpus import CORPUS_DIR, Example, load_corpus
from classifiers.lemmas import LEMMAS_DIR, lemma_hashes
from classifiers.linear import SUBTYPE_BITS, FeatureMatrix, LinearHead
from classifiers.lowo import FitPredict, calibrated, fit_temperature_logits, operating_points, out_of_fold
from classifiers.records import LABELS
from classifiers.segments import combine

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["train_model", "corpus_digest", "MODEL_NAME", "Recipe", "Prepared", "prepare_corpus", "model_fit_predict"]

log = logging.getLogger(__name__)

MODEL_NAME = "klachtwacht-nl"
#: Out-of-fold (leave-one-writer-out) log-probabilities of the corpus, stored beside the model.
OOF_FILE = "lowo_logits.npy"
MODEL_VERSION_BASE = "3"  # 3: hashed lemma and character n-grams, operating points from held-out writers


@dataclass(frozen=True)
class Recipe:
    """The hyperparameters of the label head (chosen by leave-one-writer-out macro-F1)."""

    c: float = 4.0
    char_weight: float = 1.0
    subtype_c: float = 8.0
    segment_weight: float = 0.25
    cue_boost: float = 3.0


@dataclass(frozen=True)
class Prepared:
    """The corpus as the pipeline reads it: examples, their features, and which go to review regardless."""

    examples: list[Example]
    features: FeatureMatrix
    forced: list[bool]
    segment_features: FeatureMatrix  # every example's segments, in example order
    segment_spans: list[tuple[int, int]]  # example -> its rows in segment_features


def corpus_digest(directory: Path = CORPUS_DIR, extra: Sequence[Path] = ()) -> str:
    """SHA-256 over the corpus files (and the ``extra`` ones after them), so a model names the corpus it came from."""
    digest = hashlib.sha256()
    for path in [*sorted(directory.glob("*.txt")), *extra]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_corpus(nlp: Language, examples: list[Example]) -> Prepared:
    """Prepare and featurise every example once."""
    from classifiers.features import Featuriser

    prepared = [model_input(e.subject, e.body).text for e in examples]
    featurised = Featuriser(nlp)([model_text(t) for t in prepared])
    return Prepared(examples, featurised.features, [forced_review(t) for t in prepared], featurised.segments, featurised.spans)


def mixed_logits(data: Prepared, head: LinearHead, rows: Sequence[int], weight: float) -> np.ndarray:
    """Log-probabilities (LABELS order) of ``rows``, each mixed with its most complaint-like segment as in use."""
    from classifiers.pipeline import softmax

    order = [head.classes.index(label) for label in LABELS]
    probs = softmax(head.logits(data.features.rows(rows)))[:, order]
    segment_rows = [j for i in rows for j in range(*data.segment_spans[i])]
    segment_probs = softmax(head.logits(data.segment_features.rows(segment_rows)))[:, order] if segment_rows and weight > 0 else np.zeros((0, len(LABELS)))
    out = np.zeros_like(probs)
    at = 0
    for k, i in enumerate(rows):
        count = data.segment_spans[i][1] - data.segment_spans[i][0]
        out[k], _ = combine(probs[k], segment_probs[at : at + count], weight)
        at += count
    return np.asarray(np.log(np.maximum(out, 1e-12)))


def model_fit_predict(data: Prepared, recipe: Recipe) -> FitPredict:
    """The (train, test) -> logits function of the model's recipe, for :func:`out_of_fold`."""
    labels = [e.label for e in data.examples]

    def fit_predict(train: Sequence[int], test: Sequence[int]) -> np.ndarray:
        head = LinearHead.fit(data.features.rows(train), [labels[i] for i in train], c=recipe.c, char_weight=recipe.char_weight, cue_boost=recipe.cue_boost)
        return mixed_logits(data, head, test, recipe.segment_weight)

    return fit_predict


def train_model(
    output: Path = DEFAULT_MODEL_DIR,
    *,
    seed: int = 7,
    recipe: Recipe | None = None,
    corpus_dir: Path = CORPUS_DIR,
    progress: bool = True,
    extra: Sequence[Path] = (),
) -> tuple[Classifier, str]:
    """Train, calibrate on held-out writers, choose thresholds and save to ``output``; return the model and a summary.

    ``extra`` corpus files (exported review decisions) join the corpus, each
    as one more writer; the result stays deterministic for the same files.
    """
    from classifiers.pipeline import ARCHITECTURE, build_nlp, set_heads

    recipe = recipe or Recipe()
    nlp = build_nlp()
    examples = load_corpus(corpus_dir, extra)
    data = prepare_corpus(nlp, examples)
    truth = [e.label for e in examples]
    writers = sorted({e.writer for e in examples})
    if len(writers) < 2:
        raise ValueError(f"training needs at least two writers (corpus files) in {corpus_dir} to calibrate on held-out writers")

    oof = out_of_fold(examples, model_fit_predict(data, recipe), "train", progress)
    temperature = fit_temperature_logits(oof, [LABELS.index(t) for t in truth])
    register_at, review_at, label_at = operating_points(calibrated(oof, temperature), truth, data.forced)

    extra_names = {p.name for p in extra}
    # the test split stays out for the fixed-split report, which reads the corpus alone: reviewed records all fit
    fit_rows = [i for i, e in enumerate(examples) if e.split != "test" or e.source in extra_names]
    label_head = LinearHead.fit(data.features.rows(fit_rows), [truth[i] for i in fit_rows], c=recipe.c, char_weight=recipe.char_weight, cue_boost=recipe.cue_boost, seed=seed)
    subtype_head = LinearHead.fit(
        data.features.rows(fit_rows), [examples[i].subtype for i in fit_rows], c=recipe.subtype_c, chars=False, fold_bits=SUBTYPE_BITS, balanced=False, seed=seed
    )
    set_heads(nlp, label_head, subtype_head)

    digest = corpus_digest(corpus_dir, extra)
    meta = ModelMeta(
        name=MODEL_NAME,
        version=f"{MODEL_VERSION_BASE}+{digest[:8]}",
        architecture=ARCHITECTURE,
        temperature=temperature,
        register_threshold=register_at,
        review_threshold=review_at,
        klacht_label_threshold=label_at,
        corpus_sha256=digest,
        seed=seed,
        segment_weight=recipe.segment_weight,
    )
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    nlp.to_disk(output / "pipeline")
    lemma_hashes(nlp).save(output / LEMMAS_DIR)  # what a loaded model reads instead of the lemmatizer's table
    meta.save(output / "meta.json")
    with open(output / OOF_FILE, "wb") as handle:  # the leave-one-writer-out scores, for 'klachtwacht evaluate'
        np.save(handle, oof.astype(np.float32), allow_pickle=False)
    reviewed = f"{sum(1 for e in examples if e.source in extra_names)} reviewed records from {', '.join(p.stem for p in extra)} in the corpus; " if extra else ""
    summary = (
        f"trained {meta.model_id} ({ARCHITECTURE}, C={recipe.c}, segment weight {recipe.segment_weight}) on {len(fit_rows)} messages of {len(writers)} writers; "
        f"{reviewed}from leave-one-writer-out scores: temperature {temperature:.2f}, klacht label threshold {label_at:.2f}, "
        f"register at {register_at:.3f}, review from {review_at:.3f}"
    )
    return Classifier(nlp, meta), summary
