"""The spaCy pipeline: blank Dutch, lookup lemmas, and two trained linear heads.

Components, in order:

- ``lemmatizer``: its lookup tables (from ``spacy-lookups-data``, stored with
  the model) give the lemmas of the word features;
- ``textcat`` (factory ``kw_linear``, head ``label``): klacht / beleidsvraag /
  overig from lemma n-grams, cue phrases and character n-grams;
- ``textcat_subtype`` (the same factory, head ``subtype``): the LABELING.md
  sub-type from the lemma n-grams.

The heads are trained with scikit-learn (:mod:`classifiers.linear`) and stored
as numpy arrays inside the pipeline folder; ``nlp(text).cats`` holds
probabilities. The classifier itself does not walk the pipeline per text: it
tokenises a batch once and reads features with :class:`classifiers.features.Featuriser`
(the same the components use), so each text and its segments share one
tokenisation. Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from classifiers.classifier import CUE_WEIGHTS, SUBTYPE_PREFIX
from classifiers.features import Featuriser
from classifiers.linear import LinearHead
from classifiers.records import LABELS

__all__ = ["build_nlp", "LinearComponent", "SUBTYPE_PREFIX", "ARCHITECTURE", "softmax", "set_heads", "get_head"]

ARCHITECTURE = "linear-ngrams"


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


class LinearComponent:
    """Puts a :class:`LinearHead`'s probabilities into ``doc.cats``."""

    def __init__(self, nlp: Language, name: str, head: str) -> None:
        self.nlp = nlp
        self.name = name
        self.head_name = head
        self.head: LinearHead | None = None
        self._featuriser: Featuriser | None = None

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
        if self._featuriser is None:
            self._featuriser = Featuriser(self.nlp)
        features = self._featuriser([doc.text for doc in docs], with_segments=False, chars=self.head.char_idf is not None).features
        words = self.head.weighted_words(features)
        probs = softmax(self.head.logits(features, words))
        cue_weights = self.head.cue_weights(words, LABELS) if self.head_name == "label" else None
        for row_index, (doc, row) in enumerate(zip(docs, probs)):
            doc.cats.update({self.prefix + label: float(p) for label, p in zip(self.head.classes, row)})
            if cue_weights is not None:
                doc.user_data[CUE_WEIGHTS] = cue_weights[row_index]
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
    return LinearComponent(nlp, name, head)


def build_nlp(architecture: str = ARCHITECTURE) -> Language:
    """A fresh pipeline with untrained heads (the lemmatizer is initialised)."""
    if architecture != ARCHITECTURE:
        raise ValueError(f"unknown architecture {architecture!r}; the one architecture is {ARCHITECTURE}")
    nlp = spacy.blank("nl")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("kw_linear", name="textcat", config={"head": "label"})
    nlp.add_pipe("kw_linear", name="textcat_subtype", config={"head": "subtype"})
    lemmatizer.initialize(nlp=nlp)  # type: ignore[attr-defined]
    return nlp


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


