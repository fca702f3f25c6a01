"""Training the shipped model from the corpus, reproducibly (seeded).

Steps: prepare every text as in use; train the pipeline on the train split,
keeping the epoch with the best dev macro-F1; fit a temperature on dev so
probabilities are honest; choose the klacht label threshold and the
register/review operating points on dev; store pipeline and meta.
"""

from __future__ import annotations

import hashlib
import logging
import random
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.classifier import DEFAULT_MODEL_DIR, SUBTYPE_PREFIX, Classifier, ModelMeta, model_input, model_text
from classifiers.corpus import CORPUS_DIR, Example, load_corpus, split
from classifiers.metrics import choose_thresholds, fit_temperature, report
from classifiers.records import LABELS

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example as SpacyExample

__all__ = ["train_model", "corpus_digest", "MODEL_NAME"]

log = logging.getLogger(__name__)

MODEL_NAME = "klachtwacht-nl"
#: Share of dev complaints that must be auto-registered or sent to review (the issue asks 98%).
CATCH = 0.985
MODEL_VERSION_BASE = "2"  # 2: cue tokens as features


def corpus_digest(directory: Path = CORPUS_DIR) -> str:
    """SHA-256 over the corpus files, so a model names the corpus it came from."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.txt")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _spacy_examples(nlp: Language, examples: Sequence[Example], target: str, subtypes: Sequence[str] = ()) -> list[SpacyExample]:
    """spaCy examples whose cats are the labels (``target="label"``) or the sub-types."""
    from spacy.training import Example as SpacyExample

    names = LABELS if target == "label" else subtypes
    out: list[SpacyExample] = []
    # nlp.update does not run the untrained components, so the lemmas the
    # classifiers read are put on the training docs here, as in use
    texts = _texts(examples)
    docs = nlp.pipe(texts, disable=["textcat", "textcat_subtype"])
    for ex, doc in zip(examples, docs):
        gold = ex.label if target == "label" else SUBTYPE_PREFIX + ex.subtype
        out.append(SpacyExample.from_dict(doc, {"cats": {name: float(name == gold) for name in names}}))
    return out


def _texts(examples: Sequence[Example]) -> list[str]:
    """The texts the pipeline reads, exactly as in use."""
    return [model_text(model_input(e.subject, e.body).text) for e in examples]


def train_model(
    output: Path = DEFAULT_MODEL_DIR,
    *,
    architecture: str = "lemma-bow",
    seed: int = 7,
    epochs: int = 20,
    dropout: float = 0.2,
    corpus_dir: Path = CORPUS_DIR,
) -> tuple[Classifier, str]:
    """Train, calibrate, choose thresholds and save to ``output``; return the model and a short summary."""
    from spacy.pipeline import Lemmatizer, TextCategorizer
    from spacy.util import minibatch
    from thinc.api import compounding, fix_random_seed

    from classifiers.pipeline import build_nlp

    fix_random_seed(seed)
    rng = random.Random(seed)
    examples = load_corpus(corpus_dir)
    parts = split(examples)
    train, dev = parts["train"], parts["dev"]
    subtypes = sorted({SUBTYPE_PREFIX + e.subtype for e in examples})

    nlp = build_nlp(architecture)
    textcat, textcat_subtype, lemmatizer = nlp.get_pipe("textcat"), nlp.get_pipe("textcat_subtype"), nlp.get_pipe("lemmatizer")
    assert isinstance(textcat, TextCategorizer) and isinstance(textcat_subtype, TextCategorizer) and isinstance(lemmatizer, Lemmatizer)
    for label in LABELS:
        textcat.add_label(label)
    for sub in subtypes:
        textcat_subtype.add_label(sub)
    lemmatizer.initialize(nlp=nlp)
    label_examples = _spacy_examples(nlp, train, "label")
    subtype_examples = _spacy_examples(nlp, train, "subtype", subtypes)
    textcat.initialize(lambda: label_examples, nlp=nlp, labels=list(LABELS))
    textcat_subtype.initialize(lambda: subtype_examples, nlp=nlp, labels=subtypes)
    optimizer = nlp.create_optimizer()  # type: ignore[no-untyped-call]
    dev_texts, dev_truth = _texts(dev), [e.label for e in dev]

    best_f1, best_bytes, best_epoch = -1.0, nlp.to_bytes(), 0
    for epoch in range(1, epochs + 1):
        order = list(range(len(label_examples)))
        rng.shuffle(order)
        losses: dict[str, float] = {}
        for batch in minibatch(order, size=compounding(4.0, 32.0, 1.001)):  # type: ignore[no-untyped-call]
            nlp.update([label_examples[i] for i in batch], drop=dropout, sgd=optimizer, losses=losses, exclude=["textcat_subtype"])
            nlp.update([subtype_examples[i] for i in batch], drop=dropout, sgd=optimizer, losses=losses, exclude=["textcat"])
        predicted = [max(LABELS, key=lambda label: doc.cats[label]) for doc in nlp.pipe(dev_texts, disable=["textcat_subtype"])]
        f1 = report("dev", dev_truth, predicted).macro_f1
        log.info("epoch %d: loss %.3f, dev macro-F1 %.3f", epoch, losses.get("textcat", 0.0), f1)
        if f1 > best_f1:
            best_f1, best_bytes, best_epoch = f1, nlp.to_bytes(), epoch
    nlp.from_bytes(best_bytes)

    raw_rows = [[float(doc.cats[label]) for label in LABELS] for doc in nlp.pipe(dev_texts, disable=["textcat_subtype"])]
    temperature = fit_temperature(raw_rows, [LABELS.index(t) for t in dev_truth])
    digest = corpus_digest(corpus_dir)
    provisional = ModelMeta(
        name=MODEL_NAME,
        version=f"{MODEL_VERSION_BASE}.{date.today():%Y%m%d}+{digest[:8]}",
        architecture=architecture,
        temperature=temperature,
        register_threshold=0.9,
        review_threshold=0.1,
        klacht_label_threshold=0.5,
        corpus_sha256=digest,
        seed=seed,
    )
    model = Classifier(nlp, provisional)
    # the operating points are chosen on exactly what the worker computes (incl. empty and foreign mail)
    dev_scores = [c.scores for c in model.classify_many((e.subject, e.body, (), 0) for e in dev)]
    p_klacht = [s["klacht"] for s in dev_scores]
    register_at, review_at = choose_thresholds(dev_truth, p_klacht, catch=CATCH)
    label_threshold = _choose_label_threshold(dev_truth, dev_scores)
    meta = ModelMeta(**{**provisional.__dict__, "register_threshold": register_at, "review_threshold": review_at, "klacht_label_threshold": label_threshold})

    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    nlp.to_disk(output / "pipeline")
    meta.save(output / "meta.json")
    summary = (
        f"trained {meta.model_id} ({architecture}) on {len(train)} messages, best epoch {best_epoch} "
        f"(dev macro-F1 {best_f1:.3f}); temperature {temperature:.2f}; klacht label threshold {label_threshold:.3f}; "
        f"register at {register_at:.3f}, review from {review_at:.3f}"
    )
    return Classifier(nlp, meta), summary


def _choose_label_threshold(truth: Sequence[str], scores: Sequence[dict[str, float]]) -> float:
    """The klacht threshold with the best dev macro-F1 among those keeping klacht recall >= 0.96."""
    best_t, best_f1 = 0.5, -1.0
    for step in range(10, 71):
        t = step / 100

        def label(s: dict[str, float]) -> str:
            return "klacht" if s["klacht"] >= t else max(("beleidsvraag", "overig"), key=lambda k: s[k])

        rep = report("dev", truth, [label(s) for s in scores])
        if rep.per_class["klacht"][1] >= 0.96 and rep.macro_f1 > best_f1:
            best_t, best_f1 = t, rep.macro_f1
    if best_f1 < 0:  # recall target out of reach: favour recall
        return 0.2
    return best_t
