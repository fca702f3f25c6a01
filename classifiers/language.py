"""Which language is a message in? Dutch and English are classified; others go to review.

A small, explainable detector: the share of very common function words of
each language among the message's words. No model to download.

Languages and dialects close to Dutch (Afrikaans, Frisian, Limburgish,
Flemish dialect writing) share most function words with Dutch, so they are
recognised by words of their own that standard Dutch (also Belgian standard
Dutch) does not use: "ek", "nie", "baie" (af); "fan", "yn", "hawwe" (fy);
"ich", "neet", "gein" (li); "ge", "goa", "moa" (vls).
"""

from __future__ import annotations

import re
from collections import Counter
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
#: Words of a close variety that standard Dutch does not use.
_VARIETY_MARKERS = {
    "af": "ek nie jy julle hulle baie asseblief dankie vir sê gesê hê kyk gister môre hierdie daardie sodat mense eintlik egter gemeenskap munisipaliteit reeds wees skryf sal sien sy oor geagte groete mekaar jou dinge huise gesinne verskillende laaste dié".split(),
    "fy": "fan yn wy hawwe binne foar hjir dizze troch sûnt gjin hie wurde wurdt sil tige myn jimme harren dêr ús hat mar sa moat kin bern skoalle ek wêr hjoed juster oan ien".split(),
    "li": "ich neet gein vaan ouch mer höbbe haet heet veer uch dao noe geer hiej waal gemeinte miech diech oets kump gaon euver allewiel sjoen auch kinjer sjtraot sjrieve zeen".split(),
    "vls": "ge gij goa nie ni da wa moa ier awel joa nen ulder gulder wadde azo efkes allee amai seffens tis kheb kzijn tzijn menier madam zyn gy ulder zoveel goan doa vo ip joar moand doar noar gin zoal oavonds stoan blyven altyd goeiendag meugen kunde".split(),
}
_VARIETY_SETS = {lang: frozenset(words) for lang, words in _VARIETY_MARKERS.items()}
#: A variety is named when its own words are at least this share of the words and at least this many.
_VARIETY_SHARE = 0.04
_VARIETY_MIN = 3
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
#: Scripts that name their language well enough for routing to review.
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30FF]")),  # kana before CJK: Japanese mixes both
    ("zh", re.compile(r"[\u4E00-\u9FFF]")),
    ("ko", re.compile(r"[\uAC00-\uD7AF]")),
    ("el", re.compile(r"[\u0370-\u03FF]")),
    ("he", re.compile(r"[\u0590-\u05FF]")),
)
#: Fewer letters than this is too little text to name a language.
_MIN_LETTERS = 10
#: Letters only Ukrainian uses (і ї є ґ) and letters Ukrainian does not use (ы э ъ ё).
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str  # nl, en, de, ..., "und" when there is too little text
    confidence: float  # share of the winning language's function words among all matched


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of ``text`` from its function words and script."""
    sample = text[:5000]
    letters = sum(map(str.isalpha, sample))
    words = [w.lower() for w in _WORD.findall(sample)]
    if letters < _MIN_LETTERS or (len(words) < 3 and not any(pattern.search(sample) for _, pattern in _SCRIPTS)):
        return LanguageGuess("und", 0.0)
    if len(_ARABIC.findall(sample)) / letters > 0.3:
        return LanguageGuess("ar", 1.0)
    if len(_CYRILLIC.findall(sample)) / letters > 0.3:
        # і/ї/є make up about 6% of Ukrainian letters; Cyrillic text without them is not Ukrainian
        uk_letters, ru_letters = len(_UKRAINIAN_ONLY.findall(sample)), len(_RUSSIAN_ONLY.findall(sample))
        if uk_letters > ru_letters:
            return LanguageGuess("uk", uk_letters / (uk_letters + ru_letters))
        return LanguageGuess("ru", ru_letters / (uk_letters + ru_letters) if ru_letters else 0.5)
    for language, pattern in _SCRIPTS:
        if len(pattern.findall(sample)) / letters > 0.3:
            return LanguageGuess(language, 1.0)
    frequency = Counter(words)
    counts = {lang: sum(n for w, n in frequency.items() if w in stop) for lang, stop in _SETS.items()}
    total = sum(counts.values())
    if total == 0:
        return LanguageGuess("und", 0.0)
    best = max(counts, key=lambda lang: counts[lang])
    if best in ("nl", "en", "de"):
        variety = _close_variety(frequency, len(words), counts)
        if variety is not None:
            return variety
    return LanguageGuess(best, counts[best] / total)


def _close_variety(frequency: Counter[str], words: int, counts: dict[str, int]) -> LanguageGuess | None:
    """Afrikaans, Frisian, Limburgish or Flemish dialect, when their own words are frequent enough."""
    hits = {lang: sum(n for w, n in frequency.items() if w in markers) for lang, markers in _VARIETY_SETS.items()}
    lang = max(hits, key=lambda k: hits[k])
    n = hits[lang]
    if n < _VARIETY_MIN or n < _VARIETY_SHARE * words or n < 0.2 * counts["nl"] or n < 0.5 * max(counts["en"], counts["de"]):
        return None
    return LanguageGuess(lang, n / (n + counts["nl"]))
