"""The shipped classifier: load once, classify many; no side effects.

``predict`` is kept apart from the reasons: scores come from the trained
pipeline and temperature calibration; the reasons (cue phrases, the sentence
that weighed most, what text preparation did) are added for people.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.attachment_text import classifier_input
from classifiers.cues import find_cue_indices
from classifiers.language import SUPPORTED, detect_language
from classifiers.metrics import apply_temperature
from classifiers.prepare import Prepared, prepare
from classifiers.records import LABELS, Classification
from classifiers.segments import combine
from ingest.records import ParsedMessage
from klachtwacht.errors import ClassifierError, ModelUnavailable

if TYPE_CHECKING:
    from classifiers.features import Featuriser

__all__ = ["Classifier", "ModelMeta", "DEFAULT_MODEL_DIR", "SUBTYPE_PREFIX", "model_input", "model_text", "forced_review", "unsupported_language"]

DEFAULT_MODEL_DIR = Path(__file__).with_name("model")
#: Sub-type labels carry this prefix in ``doc.cats``, apart from the three labels.
SUBTYPE_PREFIX = "sub:"
EMPTY_PLACEHOLDER = "(leeg)"
#: Parse defects that mean the text may be incomplete or garbled (stdlib defect names, our own words).
DAMAGE_MARKERS = ("BoundaryNotFound", "MissingHeaderBodySeparator", "InvalidBase64", "MultipartInvariantViolation", "could not be read", "could not be decoded", "without an end line")
#: ``doc.user_data`` key under which the label component leaves each matched cue's weight per label.
CUE_WEIGHTS = "kw_cue_weights"
#: A cue is shown as a reason only when it moved its own label's calibrated log-odds by at least this much.
MIN_CUE_WEIGHT = 0.05
_LANGUAGE_NAMES = {"en": "Engels", "de": "Duits", "fr": "Frans", "pl": "Pools", "tr": "Turks", "es": "Spaans", "ar": "Arabisch", "uk": "Oekraïens", "ru": "Russisch",
                   "af": "Afrikaans", "fy": "Fries", "li": "Limburgs", "vls": "Vlaams dialect"}
_LABEL_NAMES = {"klacht": "een klacht", "beleidsvraag": "een beleidsvraag", "overig": "overig"}
SUBTYPES_OF = {
    "klacht": ("bejegening", "geen-reactie", "vertraging", "informatie", "behandeling", "melding-genegeerd", "doorgestuurd", "gemengd"),
    "beleidsvraag": ("vraag", "mening", "voorstel", "petitie", "inspreken", "gesprek"),
}
_CLAIMED_SUBTYPES = frozenset(s for subtypes in SUBTYPES_OF.values() for s in subtypes)
#: Characters of text featurised at once (a chunk holds at least one text): bounds the feature matrices' memory.
CHUNK_CHARS = 120_000


@dataclass(frozen=True)
class ModelMeta:
    """What is stored beside the pipeline: name, version, calibration and operating points."""

    name: str
    version: str
    architecture: str
    temperature: float
    register_threshold: float
    review_threshold: float
    klacht_label_threshold: float
    corpus_sha256: str
    seed: int
    segment_weight: float = 0.0


    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def load(cls, path: Path) -> ModelMeta:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def model_input(subject: str, body: str) -> Prepared:
    """The prepared text the model sees, the same in training and in use."""
    return prepare(body, subject)


def model_text(prepared_text: str) -> str:
    """What the pipeline reads: the prepared text, or a placeholder for no text (its scores are set aside)."""
    if not prepared_text.strip():
        return EMPTY_PLACEHOLDER
    return prepared_text


def unsupported_language(text: str) -> str | None:
    """The language of ``text`` when the model does not read it (at least five words), else None."""
    return _unsupported(detect_language(text).language, text)


def _unsupported(language: str, text: str) -> str | None:
    if language not in ("und",) + SUPPORTED and len(text.split()) >= 5:
        return language
    return None


def forced_review(prepared_text: str) -> bool:
    """Whether a prepared text goes to review whatever the model says (unreadable or another language)."""
    if not prepared_text.strip():
        return False
    return _is_binary_junk(prepared_text) or unsupported_language(prepared_text) is not None


def _is_binary_junk(text: str) -> bool:
    if not text:
        return False
    sample = text[:4000]
    bad = sum(1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t"))
    return bad / len(sample) > 0.1


def _load_pipeline(path: Path) -> Any:
    import spacy

    import classifiers.pipeline  # noqa: F401  registers our architecture and component
    from classifiers.lemmas import LEMMAS_DIR, LemmaHashes, compact, keep

    # loaded to classify, never saved again: the lemmas as two arrays, not spaCy's table of strings
    stored = path / LEMMAS_DIR
    try:
        if stored.is_dir():
            nlp = spacy.load(path / "pipeline", exclude=["lemmatizer"])
            keep(nlp, LemmaHashes.load(stored))
        else:  # a model trained before the arrays were stored
            nlp = spacy.load(path / "pipeline")
            compact(nlp)
    except (OSError, ValueError, KeyError) as exc:
        raise ClassifierError(f"the model in {path} cannot be loaded: {exc}") from exc
    return nlp


@dataclass(frozen=True)
class Scored:
    """What one pass of the pipeline says about one text."""

    scores: dict[str, float]  # calibrated, over LABELS
    subtypes: dict[str, float]
    segment: tuple[str, float] | None  # the passage mixed in and its own p(klacht)
    cue_weights: dict[int, list[float]]  # cue index -> contribution to each label's log-odds


class Classifier:
    """A loaded model. Thread-safe for classification."""

    def __init__(self, nlp: Any | None, meta: ModelMeta, directory: Path | None = None) -> None:
        from classifiers.features import Featuriser

        if nlp is None and directory is None:
            raise ClassifierError("a classifier needs its pipeline or the folder to load it from")
        self._nlp = nlp
        self.meta = meta
        #: The folder it was loaded from (None: built in memory), so another process can load the same model.
        self.directory = directory
        self._featuriser = Featuriser(nlp) if nlp is not None else None
        self._loading = threading.Lock()

    @classmethod
    def load(cls, directory: str | Path | None = None, *, lazy: bool = False) -> Classifier:
        """Load the model in ``directory`` (default: the one shipped in the package).

        ``lazy`` reads only its description now and the pipeline (spaCy and
        the weights, some 170 MB) when it first classifies: a process that
        leaves classifying to its parse pool never holds it.
        """
        path = Path(directory) if directory else DEFAULT_MODEL_DIR
        meta_path = path / "meta.json"
        if not meta_path.exists() or not (path / "pipeline").is_dir():
            raise ClassifierError(f"no trained model in {path}: run 'klachtwacht train'")
        try:
            meta = ModelMeta.load(meta_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ClassifierError(f"the model in {path} cannot be loaded: {exc}") from exc
        return cls(None if lazy else _load_pipeline(path), meta, path)

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline, loaded on first use when the classifier was loaded lazily."""
        if self._nlp is None:
            from classifiers.features import Featuriser

            with self._loading:
                if self._nlp is None:
                    assert self.directory is not None  # __init__ has either
                    try:
                        nlp = _load_pipeline(self.directory)
                    except ClassifierError as exc:
                        raise ModelUnavailable(str(exc), doubtful=False) from exc
                    self._featuriser = Featuriser(nlp)
                    self._nlp = nlp
        return self._nlp

    @property
    def featuriser(self) -> Featuriser:
        if self._featuriser is None:
            self.nlp  # noqa: B018  loads it
        assert self._featuriser is not None
        return self._featuriser

    # -- scores -------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Calibrated label probabilities for each prepared text."""
        return [scored.scores for scored in self._run(texts, subtypes=False)]

    def _run(self, texts: Sequence[str], *, subtypes: bool) -> list[Scored]:
        """One pass over ``texts``: calibrated label scores, sub-type scores (optionally), the segment mixed in, the cue weights.

        A long batch is read in chunks of about :data:`CHUNK_CHARS` characters:
        each text's figures do not depend on the others, and the feature
        matrices of a whole batch of long mail would cost far more memory.
        """
        out: list[Scored] = []
        for chunk in _chunks([model_text(text) for text in texts], CHUNK_CHARS):
            out.extend(self._run_chunk(chunk, subtypes=subtypes))
        return out

    def _run_chunk(self, seen: Sequence[str], *, subtypes: bool) -> list[Scored]:
        import numpy as np

        from classifiers.pipeline import get_head, softmax

        label_head = get_head(self.nlp, "textcat")
        featurised = self.featuriser(seen, with_segments=self.meta.segment_weight > 0)
        order = [label_head.classes.index(label) for label in LABELS]
        words = label_head.weighted_words(featurised.features)
        probs = softmax(label_head.logits(featurised.features, words))[:, order]
        segment_probs = softmax(label_head.logits(featurised.segments))[:, order] if len(featurised.segments) else np.zeros((0, len(LABELS)))
        cue_weights = label_head.cue_weights(words, LABELS)
        subtype_head = get_head(self.nlp, "textcat_subtype") if subtypes else None
        subtype_probs = softmax(subtype_head.logits(featurised.features)) if subtype_head is not None else None
        out = []
        for i, text in enumerate(seen):
            first, last = featurised.spans[i]
            mixed, best = combine(probs[i], segment_probs[first:last], self.meta.segment_weight)
            calibrated = dict(zip(LABELS, apply_temperature([float(v) for v in mixed], self.meta.temperature)))
            subs = dict(zip(subtype_head.classes, (float(v) for v in subtype_probs[i]))) if subtype_head is not None and subtype_probs is not None else {}
            segment = None
            if best is not None:
                start, end = featurised.segment_spans[i][best]
                segment = (" ".join(text[start:end].split()), float(segment_probs[first + best][0]))
            out.append(Scored(calibrated, subs, segment, cue_weights[i]))
        return out

    def label_of(self, scores: dict[str, float]) -> str:
        """klacht at or above the klacht label threshold (chosen on held-out writers), else the likelier of the other two.

        A missed complaint costs more than a false alarm, so klacht does not
        have to be the most likely label to be chosen.
        """
        if scores["klacht"] >= self.meta.klacht_label_threshold:
            return "klacht"
        return max(("beleidsvraag", "overig"), key=lambda label: scores[label])

    # -- the whole judgment ----------------------------------------------------
    def classify(
        self, subject: str, body: str, *, auto_signals: Sequence[str] = (), attachments: int = 0, defects: Sequence[str] = ()
    ) -> Classification:
        """Judge one message."""
        return self.classify_many([(subject, body, tuple(auto_signals), attachments, tuple(defects))])[0]

    def classify_parsed(self, parsed: ParsedMessage) -> Classification:
        """Judge a parsed message: its subject, text, automatic-mail signals, attachments and defects.

        When the body says little ("zie bijlage", empty, a short forward) the
        attachments' text is read too, and the reasons say which attachment
        weighed (see :mod:`classifiers.attachment_text`).
        """
        return self.classify_parsed_many([parsed])[0]

    def classify_parsed_many(self, parsed: Sequence[ParsedMessage]) -> list[Classification]:
        """:meth:`classify_parsed` for a batch at once (one ``nlp.pipe`` over all of them), attachments read the same way."""
        given = [classifier_input(p) for p in parsed]
        results = self.classify_many((p.subject, g.body, p.auto_signals, len(p.attachments), p.defects) for p, g in zip(parsed, given))
        return [
            r if not g.reasons else replace(r, reasons=g.reasons + r.reasons, needs_review=r.needs_review or g.needs_review)
            for r, g in zip(results, given)
        ]

    def classify_many(self, items: Iterable[tuple[Any, ...]]) -> list[Classification]:
        """Judge many messages at once: ``(subject, body, auto_signals, attachment count[, defects])`` each."""
        items = [tuple(item) + ((),) * (5 - len(item)) for item in items]
        prepared = [model_input(subject or "", body or "") for subject, body, *_ in items]
        texts = [p.text for p in prepared]
        results = []
        for (subject, body, signals, attachments, defects), prep, scored in zip(items, prepared, self._run(texts, subtypes=True)):
            empty_body = not (body or "").strip()
            results.append(self._judge(prep, scored, tuple(signals), attachments, empty_body, tuple(defects)))
        return results

    def _judge(
        self,
        prep: Prepared,
        scored: Scored,
        signals: tuple[str, ...],
        attachments: int,
        empty_body: bool,
        defects: tuple[str, ...],
    ) -> Classification:
        text = prep.text
        scores, subtypes = scored.scores, scored.subtypes
        reasons: list[str] = []
        needs_review = False
        language = "nl"
        damage = [d for d in defects if any(marker in d for marker in DAMAGE_MARKERS)]
        if damage:
            needs_review = True
            reasons.append(f"het bericht is beschadigd ({len(damage)} gebrek(en), o.a. {damage[0][:80]}): ter beoordeling")
        if empty_body and attachments:
            needs_review = True
            reasons.append("geen tekst in het bericht, alleen een bijlage: ter beoordeling")
        if not text.strip():
            if not attachments:
                reasons.append("geen tekst om te beoordelen (leeg bericht)")
            scores = {"klacht": 0.0, "beleidsvraag": 0.0, "overig": 1.0}
        elif _is_binary_junk(text):
            reasons.append("de tekst is onleesbaar (binaire gegevens of een verkeerde tekenset)")
            needs_review = True
        else:
            guess = detect_language(text)
            other = _unsupported(guess.language, text)
            if other is not None:
                language = other
                needs_review = True
                reasons.append(f"bericht in een andere taal ({_LANGUAGE_NAMES.get(language, language)}): ter beoordeling, niet door het model beslist")
            elif guess.language == "en":
                language = "en"
                reasons.append("bericht in het Engels")
        label = self.label_of(scores)
        if prep.forwarded:
            reasons.append("doorgestuurd bericht: beoordeeld op de doorgestuurde inhoud")
        elif prep.dropped_quote:
            reasons.append("eerdere berichten in de reactie zijn niet meegewogen")
        if signals:
            reasons.append("automatisch verzonden bericht (" + ", ".join(signals) + ")")
        if prep.collapsed:
            reasons.append("herhaalde regels zijn één keer meegewogen")
        if prep.subject_cut:
            reasons.append("het onderwerp is erg lang: alleen het begin is meegewogen")
        if not needs_review and text.strip():
            reasons.extend(self._evidence(text, label, scored))
        if not reasons:
            reasons.append(f"geen herkenbare signaalwoorden: het model beoordeelt de tekst als geheel als {_LABEL_NAMES[label]} ({scores[label]:.0%})")
        subtype = self._subtype_for(label, subtypes, signals)
        return Classification(
            label=label,
            confidence=scores[label],
            scores=scores,
            reasons=tuple(reasons),
            model=self.meta.model_id,
            subtype=subtype,
            language=language,
            needs_review=needs_review,
            prepared_chars=len(text),
        )

    @staticmethod
    def _subtype_for(label: str, subtypes: dict[str, float], signals: tuple[str, ...]) -> str | None:
        if label == "overig" and ("report" in signals):
            return "bounce"
        if label == "overig" and ("auto-submitted" in signals or "auto-reply-subject" in signals):
            return "auto-reply"
        if label in SUBTYPES_OF:
            candidates = {k: v for k, v in subtypes.items() if k in SUBTYPES_OF[label]}
        else:
            candidates = {k: v for k, v in subtypes.items() if k not in _CLAIMED_SUBTYPES}
        if not candidates:
            return None
        return max(candidates, key=lambda k: candidates[k])

    def _evidence(self, text: str, label: str, scored: Scored) -> list[str]:
        """The cue phrases whose weight in the model pushed toward their label, and the passage mixed in for a complaint."""
        out = []
        for index, cue, words_found in find_cue_indices(text, among=scored.cue_weights):  # the cues the model saw
            weights = scored.cue_weights[index]
            own = LABELS.index(cue.label)
            push = (weights[own] - max(w for k, w in enumerate(weights) if k != own)) / self.meta.temperature
            if push < MIN_CUE_WEIGHT:
                continue  # the model learned not to trust this phrase: it is no reason
            marker = "" if cue.label == label else f" (wijst op {_LABEL_NAMES[cue.label]})"
            out.append(f"'{words_found}': {cue.explanation}{marker}")
        if scored.segment is not None:
            passage, p_klacht = scored.segment
            if p_klacht >= 0.5:
                shown = passage if len(passage) <= 160 else passage[:157].rstrip() + "..."
                out.append(f"passage die als klacht is meegewogen ({p_klacht:.0%}): '{shown}'")
        return out[:6]


def _chunks(texts: list[str], budget: int) -> Iterable[list[str]]:
    """``texts`` in order, in runs of at most ``budget`` characters (a longer text alone)."""
    chunk: list[str] = []
    size = 0
    for text in texts:
        if chunk and size + len(text) > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text)
    if chunk:
        yield chunk
