"""The shipped classifier: load once, classify many; no side effects.

``predict`` is kept apart from the reasons: scores come from the trained
pipeline and temperature calibration; the reasons (cue phrases, the sentence
that weighed most, what text preparation did) are added for people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from classifiers.attachment_text import classifier_input
from classifiers.cues import find_cues, with_cue_tokens
from classifiers.language import SUPPORTED, detect_language
from classifiers.metrics import apply_temperature
from classifiers.prepare import Prepared, prepare
from classifiers.records import LABELS, Classification
from ingest.records import ParsedMessage
from klachtwacht.errors import ClassifierError

__all__ = ["Classifier", "ModelMeta", "DEFAULT_MODEL_DIR", "SUBTYPE_PREFIX", "model_input", "model_text"]

DEFAULT_MODEL_DIR = Path(__file__).with_name("model")
#: Sub-type labels carry this prefix in ``doc.cats``, apart from the three labels.
SUBTYPE_PREFIX = "sub:"
EMPTY_PLACEHOLDER = "(leeg)"
#: Parse defects that mean the text may be incomplete or garbled (stdlib defect names, our own words).
DAMAGE_MARKERS = ("BoundaryNotFound", "MissingHeaderBodySeparator", "InvalidBase64", "MultipartInvariantViolation", "could not be read", "could not be decoded", "without an end line")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{1,}")
_LANGUAGE_NAMES = {"en": "Engels", "de": "Duits", "fr": "Frans", "pl": "Pools", "tr": "Turks", "es": "Spaans", "ar": "Arabisch", "uk": "Oekraïens", "ru": "Russisch"}
_LABEL_NAMES = {"klacht": "een klacht", "beleidsvraag": "een beleidsvraag", "overig": "overig"}
SUBTYPES_OF = {
    "klacht": ("bejegening", "geen-reactie", "vertraging", "informatie", "behandeling", "melding-genegeerd", "doorgestuurd", "gemengd"),
    "beleidsvraag": ("vraag", "mening", "voorstel", "petitie", "inspreken", "gesprek"),
}
_CLAIMED_SUBTYPES = frozenset(s for subtypes in SUBTYPES_OF.values() for s in subtypes)


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

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def load(cls, path: Path) -> ModelMeta:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def model_input(subject: str, body: str) -> Prepared:
    """The prepared text the model sees, the same in training and in use."""
    return prepare(body, subject)


def model_text(prepared_text: str, cues: bool = True) -> str:
    """What the pipeline reads: the prepared text with its cue tokens, or a placeholder for no text.

    (An empty text next to others in one batch trips thinc's n-gram counter; its scores are set aside anyway.)
    """
    if not prepared_text.strip():
        return EMPTY_PLACEHOLDER
    return with_cue_tokens(prepared_text) if cues else prepared_text


def _is_binary_junk(text: str) -> bool:
    if not text:
        return False
    sample = text[:4000]
    bad = sum(1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t"))
    return bad / len(sample) > 0.1


class Classifier:
    """A loaded model. Thread-safe for classification."""

    def __init__(self, nlp: Any, meta: ModelMeta) -> None:
        self.nlp = nlp
        self.meta = meta

    @classmethod
    def load(cls, directory: str | Path | None = None) -> Classifier:
        """Load the model in ``directory`` (default: the one shipped in the package)."""
        import spacy

        import classifiers.pipeline  # noqa: F401  registers our architecture and component

        path = Path(directory) if directory else DEFAULT_MODEL_DIR
        meta_path = path / "meta.json"
        if not meta_path.exists():
            raise ClassifierError(f"no trained model in {path}: run 'klachtwacht train'")
        try:
            nlp = spacy.load(path / "pipeline")
            meta = ModelMeta.load(meta_path)
        except (OSError, ValueError, KeyError) as exc:
            raise ClassifierError(f"the model in {path} cannot be loaded: {exc}") from exc
        return cls(nlp, meta)

    # -- scores -------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Calibrated label probabilities for each prepared text."""
        return [scores for scores, _ in self._run(texts, subtypes=False)]

    def _run(self, texts: Sequence[str], *, subtypes: bool, cues: bool = True) -> list[tuple[dict[str, float], dict[str, float]]]:
        """One pass over ``texts``: calibrated label scores and (optionally) sub-type scores."""
        disable = [] if subtypes else ["textcat_subtype"]
        out = []
        for doc in self.nlp.pipe([model_text(text, cues) for text in texts], batch_size=64, disable=disable):
            raw = [float(doc.cats.get(label, 0.0)) for label in LABELS]
            calibrated = dict(zip(LABELS, apply_temperature(raw, self.meta.temperature)))
            subs = {k[len(SUBTYPE_PREFIX):]: float(v) for k, v in doc.cats.items() if k.startswith(SUBTYPE_PREFIX)}
            out.append((calibrated, subs))
        return out

    def label_of(self, scores: dict[str, float]) -> str:
        """klacht at or above the klacht label threshold (chosen on dev), else the likelier of the other two.

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
        given = classifier_input(parsed)
        result = self.classify(parsed.subject, given.body, auto_signals=parsed.auto_signals, attachments=len(parsed.attachments), defects=parsed.defects)
        if not given.reasons:
            return result
        return replace(result, reasons=given.reasons + result.reasons, needs_review=result.needs_review or given.needs_review)

    def classify_parsed_many(self, parsed: Sequence[ParsedMessage]) -> list[Classification]:
        """:meth:`classify_parsed` for a batch at once (one ``nlp.pipe`` over all of them)."""
        return self.classify_many((p.subject, p.text, p.auto_signals, len(p.attachments), p.defects) for p in parsed)

    def classify_many(self, items: Iterable[tuple[Any, ...]]) -> list[Classification]:
        """Judge many messages at once: ``(subject, body, auto_signals, attachment count[, defects])`` each."""
        items = [tuple(item) + ((),) * (5 - len(item)) for item in items]
        prepared = [model_input(subject or "", body or "") for subject, body, *_ in items]
        texts = [p.text for p in prepared]
        results = []
        for (subject, body, signals, attachments, defects), prep, (score, sub) in zip(items, prepared, self._run(texts, subtypes=True)):
            empty_body = not (body or "").strip()
            results.append(self._judge(prep, score, sub, tuple(signals), attachments, empty_body, tuple(defects)))
        return results

    def _judge(
        self,
        prep: Prepared,
        scores: dict[str, float],
        subtypes: dict[str, float],
        signals: tuple[str, ...],
        attachments: int,
        empty_body: bool,
        defects: tuple[str, ...],
    ) -> Classification:
        text = prep.text
        reasons: list[str] = []
        needs_review = False
        language = "nl"
        words = len(text.split())
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
            if guess.language not in ("und",) + SUPPORTED and words >= 5:
                language = guess.language
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
        for cue, words_found in find_cues(text):
            marker = "" if cue.label == label else f" (wijst op {_LABEL_NAMES[cue.label]})"
            reasons.append(f"'{words_found}': {cue.explanation}{marker}")
        sentence = self._weightiest_sentence(text, label) if text.strip() and not needs_review else None
        if sentence:
            reasons.append(f"zin die het zwaarst woog voor {_LABEL_NAMES[label]}: '{sentence}'")
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

    def _weightiest_sentence(self, text: str, label: str) -> str | None:
        sentences = [s.strip() for s in _SENTENCE.split(text) if len(s.split()) >= 4][:12]
        if len(sentences) < 2:
            return None
        # ranking sentences needs no cue words (the cues are reported on their own)
        scores = [score for score, _ in self._run(sentences, subtypes=False, cues=False)]
        best = max(range(len(sentences)), key=lambda i: scores[i][label])
        sentence = sentences[best]
        return sentence if len(sentence) <= 160 else sentence[:157].rstrip() + "..."
