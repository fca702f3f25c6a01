"""The spaCy pipeline: blank Dutch, lookup lemmas, and two trained linear heads.

Components, in order:

- ``lemmatizer`` (lookup tables from ``spacy-lookups-data``);
- ``kw_lemma_norm``: lower-cases lemmas and folds digits, so that "Gebeld",
  "belde" and "bellen" meet as one feature;
- ``textcat`` (factory ``kw_linear``, head ``label``): klacht / beleidsvraag /
  overig from lemma n-grams, cue phrases and character n-grams;
- ``textcat_subtype`` (the same factory, head ``subtype``): the LABELING.md
  sub-type from the lemma n-grams.

The heads are trained with scikit-learn (:mod:`classifiers.linear`) and stored
as numpy arrays inside the pipeline folder. ``doc.cats`` holds probabilities.
Nothing is downloaded: the lemma tables come from the installed
``spacy-lookups-data`` and are stored with the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from classifiers.classifier import CUE_WEIGHTS, SUBTYPE_PREFIX
from classifiers.linear import FeatureMatrix, LinearHead, cue_columns, featurise, word_terms
from classifiers.records import LABELS

__all__ = ["build_nlp", "LinearComponent", "SUBTYPE_PREFIX", "doc_features", "ARCHITECTURE"]

ARCHITECTURE = "linear-ngrams"
_DIGITS = re.compile(r"\d")


@Language.component("kw_lemma_norm")
def lemma_norm(doc: Doc) -> Doc:
    """Lower-case each lemma and fold digits to 0."""
    for token in doc:
        lemma = _DIGITS.sub("0", (token.lemma_ or token.text).lower())
        token.lemma_ = lemma
        token.norm_ = lemma
    return doc


def doc_features(docs: list[Doc], *, chars: bool = True) -> FeatureMatrix:
    """The hashed features of lemmatised docs."""
    return featurise([word_terms([t.norm_ for t in doc], doc.text) for doc in docs], [doc.text for doc in docs], chars=chars)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


class LinearComponent:
    """Puts a :class:`LinearHead`'s probabilities into ``doc.cats``."""

    def __init__(self, name: str, head: str) -> None:
        self.name = name
        self.head_name = head
        self.head: LinearHead | None = None

    @property
    def prefix(self) -> str:
        return SUBTYPE_PREFIX if self.head_name == "subtype" else ""

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._score(batch)
                batch = []
        if batch:
            yield from self._score(batch)

    def _score(self, docs: list[Doc]) -> list[Doc]:
        if self.head is None:
            raise ValueError(f"pipeline component {self.name} is not trained")
        design = self.head.design(doc_features(docs, chars=self.head.char_idf is not None))
        probs = softmax(np.asarray(design @ self.head.coef.T, dtype=np.float64) + self.head.intercept[np.newaxis, :])
        columns = cue_columns() if self.head_name == "label" else {}
        for row_index, (doc, row) in enumerate(zip(docs, probs)):
            doc.cats.update({self.prefix + label: float(p) for label, p in zip(self.head.classes, row)})
            if columns:
                weights = {}
                for cue_index, column in columns.items():
                    value = design[row_index, column]
                    if value:
                        weights[cue_index] = [float(value * self.head.coef[self.head.classes.index(label), column]) for label in LABELS]
                doc.user_data[CUE_WEIGHTS] = weights
        return docs

    def to_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> None:
        if self.head is None:
            raise ValueError(f"pipeline component {self.name} is not trained")
        self.head.save(Path(path))

    def from_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> LinearComponent:
        self.head = LinearHead.load(Path(path))
        return self


@Language.factory("kw_linear", default_config={"head": "label"})
def make_linear(nlp: Language, name: str, head: str) -> LinearComponent:
    if head not in ("label", "subtype"):
        raise ValueError(f"unknown head {head!r}: label or subtype")
    return LinearComponent(name, head)


def build_nlp(architecture: str = ARCHITECTURE) -> Language:
    """A fresh pipeline with untrained heads (the lemmatizer is initialised)."""
    if architecture != ARCHITECTURE:
        raise ValueError(f"unknown architecture {architecture!r}; the one architecture is {ARCHITECTURE}")
    nlp = spacy.blank("nl")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("kw_lemma_norm")
    nlp.add_pipe("kw_linear", name="textcat", config={"head": "label"})
    nlp.add_pipe("kw_linear", name="textcat_subtype", config={"head": "subtype"})
    lemmatizer.initialize(nlp=nlp)  # type: ignore[attr-defined]
    return nlp


def lemmatise(nlp: Language, texts: list[str]) -> list[Doc]:
    """The docs of ``texts`` with lemmas, without the heads (for training)."""
    return list(nlp.pipe(texts, disable=["textcat", "textcat_subtype"], batch_size=256))


def set_heads(nlp: Language, label: LinearHead, subtype: LinearHead) -> None:
    """Put trained heads into the pipeline."""
    for name, head in (("textcat", label), ("textcat_subtype", subtype)):
        component = nlp.get_pipe(name)
        assert isinstance(component, LinearComponent)
        component.head = head


def get_head(nlp: Language, name: str = "textcat") -> LinearHead:
    component = nlp.get_pipe(name)
    assert isinstance(component, LinearComponent) and component.head is not None
    return component.head


