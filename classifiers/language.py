"""Which language is a message in? Dutch and English are classified; others go to review.

A small, explainable detector: the share of very common function words of
each language among the message's words. No model to download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["detect_language", "LanguageGuess", "SUPPORTED"]

SUPPORTED = ("nl", "en")

_STOPWORDS = {
    "nl": "de het een en van ik je u is niet dat die op te in voor met zijn er maar om aan ook als bij nog wel geen mijn al was wat naar dan heb hebben wordt worden kan deze dit ons onze jullie uw zij hij we wij ze graag omdat sinds waarom hoe moet mij mee nu over tot door gemeente".split(),
    "en": "the and of to a in is it that for you i was on with as have be at this are not but my your we they from by an or had has been would can will what when please there which our dear regards thank".split(),
    "de": "der die das und ist nicht ich sie es mit den dem ein eine zu auf für von wir haben sehr ihre ihr bitte auch wie noch nach dass".split(),
    "fr": "le la les et est je vous il elle ne pas un une des du de pour avec sur dans nous que qui mais mon ma mes votre merci".split(),
    "pl": "i w nie na jest się że to z do jak mam mój moja przez dla ale tak już czy proszę dzień dobry".split(),
    "tr": "ve bir bu da de için ile ben çok ama ne var yok gibi daha benim sizin lütfen merhaba teşekkür".split(),
    "es": "el la los las y es en que de por para con una un no mi su pero muy gracias hola".split(),
    "uk": "і в не на що це я ми з до як але так вже будь ласка дякую".split(),
}
_SETS = {lang: frozenset(words) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str  # nl, en, de, ..., "und" when there is too little text
    confidence: float  # share of the winning language's function words among all matched


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of ``text`` from its function words and script."""
    sample = text[:5000]
    letters = sum(ch.isalpha() for ch in sample) or 1
    if len(_ARABIC.findall(sample)) / letters > 0.3:
        return LanguageGuess("ar", 1.0)
    if len(_CYRILLIC.findall(sample)) / letters > 0.3:
        counts_uk = sum(1 for w in _WORD.findall(sample.lower()) if w in _SETS["uk"])
        return LanguageGuess("uk" if counts_uk else "ru", 1.0)
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) < 3:
        return LanguageGuess("und", 0.0)
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in _SETS.items()}
    total = sum(counts.values())
    if total == 0:
        return LanguageGuess("und", 0.0)
    best = max(counts, key=lambda lang: counts[lang])
    return LanguageGuess(best, counts[best] / total)
