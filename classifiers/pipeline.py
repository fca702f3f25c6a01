"""The spaCy pipeline: blank Dutch, lookup lemmas, and two trained text classifiers.

Components, in order:

- ``lemmatizer`` (lookup tables from ``spacy-lookups-data``);
- ``kw_lemma_norm``: lower-cases lemmas and folds digits, so that "Gebeld",
  "belde" and "bellen" meet as one feature;
- ``textcat``: klacht / beleidsvraag / overig, exclusive;
- ``textcat_subtype``: the LABELING.md sub-type, exclusive.

Both classifiers use ``klachtwacht.LemmaBOW.v1``: a sparse linear model over
lemma n-grams (registered below, versioned like spaCy's own architectures),
or spaCy's ensemble when asked. The lemma is put in the token's NORM, which
is the attribute the n-gram extractor reads. Nothing is downloaded: the lemma tables come
from the installed ``spacy-lookups-data`` and are stored with the model.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import spacy
from spacy.attrs import NORM
from spacy.language import Language
from spacy.ml.extract_ngrams import extract_ngrams
from spacy.ml.models.textcat import NEG_VALUE, resize_and_set_ref
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, SparseLinear_v2, chain, resizable, softmax_activation, with_cpu
from thinc.layers.resizable import resize_linear_weighted

__all__ = ["build_nlp", "ARCHITECTURES"]

_DIGITS = re.compile(r"\d")
#: Hash table sizes of the sparse linear layers (features per output).
LABEL_TABLE = 262144
SUBTYPE_TABLE = 65536


@registry.architectures("klachtwacht.LemmaBOW.v1")  # type: ignore[untyped-decorator]
def lemma_bow(exclusive_classes: bool, ngram_size: int, length: int = 262144, nO: int | None = None) -> Model[list[Doc], Any]:
    """A bag of lemma n-grams into a sparse linear layer and a softmax."""
    length = 2 ** (length - 1).bit_length()
    sparse = SparseLinear_v2(nO=nO, length=length)
    layer: Model[Any, Any] = resizable(sparse, resize_layer=partial(resize_linear_weighted, fill_defaults={"b": NEG_VALUE, "W": 0}))
    model: Model[list[Doc], Any] = chain(extract_ngrams(ngram_size, attr=NORM), layer)
    model = with_cpu(model, model.ops)
    output = softmax_activation()
    model = chain(model, with_cpu(output, output.ops))
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse)
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=layer)
    return model


@Language.component("kw_lemma_norm")
def lemma_norm(doc: Doc) -> Doc:
    """Lower-case each lemma and fold digits to 0."""
    for token in doc:
        lemma = _DIGITS.sub("0", (token.lemma_ or token.text).lower())
        token.lemma_ = lemma
        token.norm_ = lemma
    return doc


ARCHITECTURES: dict[str, dict[str, Any]] = {
    "lemma-bow": {"@architectures": "klachtwacht.LemmaBOW.v1", "exclusive_classes": True, "ngram_size": 2, "length": LABEL_TABLE},
    "ensemble": {
        "@architectures": "spacy.TextCatEnsemble.v2",
        "nO": None,
        "linear_model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 1, "no_output_layer": False},
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 64, "rows": [2000, 2000, 1000, 1000], "attrs": ["NORM", "LOWER", "PREFIX", "SUFFIX"], "include_static_vectors": False},
            "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 64, "window_size": 1, "maxout_pieces": 3, "depth": 2},
        },
    },
}


def build_nlp(architecture: str = "lemma-bow") -> Language:
    """A fresh, untrained pipeline of the given architecture."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose from {', '.join(ARCHITECTURES)}")
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("kw_lemma_norm")
    model = dict(ARCHITECTURES[architecture])
    nlp.add_pipe("textcat", name="textcat", config={"model": model, "threshold": 0.0})
    if "length" in model:  # the sub-type head has ten times the outputs: a smaller table keeps the model small
        model["length"] = SUBTYPE_TABLE
    nlp.add_pipe("textcat", name="textcat_subtype", config={"model": model, "threshold": 0.0})
    return nlp
