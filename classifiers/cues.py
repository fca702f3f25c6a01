"""Readable cue phrases: what a secretary is shown as the reason for a judgment.

Cues name, in Dutch, the recognisable patterns in a message that point one
way or the other, so a suggestion on the review screen can be checked at a
glance. They are also handed to the model as one extra feature per matched
cue (``__cue<index>``, see :mod:`classifiers.linear`), so that it learns how
much each pattern weighs; the model decides, and a cue is shown as a reason
only when its learned weight pushed toward its label. A change to the list
or its order needs ``klachtwacht train``.

The patterns are written in Python's ``re`` syntax and run on RE2 (linear
time, several times faster on long mail, which matters because every message
and its passages are searched for every cue). RE2's ``\\w`` is ASCII, so it is
widened to Unicode letters and digits as Python's is; a test holds RE2's
matches to ``re``'s on the corpus.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import re2

__all__ = ["Cue", "CUES", "find_cues", "find_cue_indices"]


@dataclass(frozen=True, slots=True)
class Cue:
    label: str  # the label this cue points to
    source: str  # the pattern, in Python ``re`` syntax, matched without regard to case
    pattern: Any  # ``source`` compiled by RE2: ``search`` and ``finditer`` as in ``re``
    explanation: str  # Dutch


def _cue(label: str, source: str, explanation: str) -> Cue:
    return Cue(label, source, re2.compile("(?i)" + source.replace(r"\w", r"[\pL\pN_]")), explanation)


CUES: tuple[Cue, ...] = (
    _cue("klacht", r"\b(?:ik\s+(?:wil\s+)?(?:dien|een)\s+(?:hierbij\s+)?(?:een\s+)?klacht|klacht\s+in(?:dienen)?|formele klacht|i (?:want to|would like to) (?:file|make|lodge) a complaint)", "zegt zelf een klacht in te dienen"),
    _cue("klacht", r"\b(?:al|nu al)\s+(?:\w+\s+){0,2}(?:keer|maal|x)\s+(?:\w+\s+){0,3}(?:gemeld|gebeld|gemaild|gevraagd|aangegeven)", "meldt herhaald contact zonder resultaat"),
    _cue("klacht", r"\b(?:nog\s+(?:steeds|altijd)\s+(?:niets|geen)|nooit\s+(?:meer\s+)?(?:iets\s+)?(?:gehoord|teruggebeld|antwoord|reactie)|geen\s+(?:enkele\s+)?(?:reactie|antwoord)\s+(?:gehad|ontvangen|gekregen))", "klaagt over uitblijven van reactie"),
    _cue("klacht", r"\b(?:onbeschoft|onvriendelijk|grof|respectloos|neerbuigend|uitgelachen|afgesnauwd|kleinerend|discriminer\w*|brutaal|arrogant)\b", "beschrijft onheuse bejegening"),
    _cue("klacht", r"\b(?:van\s+het\s+kastje\s+naar\s+de\s+muur|van\s+loket\s+naar\s+loket|niemand\s+voelt\s+zich\s+verantwoordelijk)", "wordt van het kastje naar de muur gestuurd"),
    _cue("klacht", r"\b(?:beloofd|toegezegd|afspraak\s+(?:niet\s+)?nagekomen)\b", "verwijst naar een niet nagekomen toezegging"),
    _cue("klacht", r"\b(?:(?:\w+\s+)?(?:weken|maanden)\s+(?:later|verder|gewacht|wachten)|wacht\w*\s+al\s+(?:\w+\s+){0,2}(?:weken|maanden))", "klaagt over lange wachttijd"),
    _cue("klacht", r"\b(?:na|al|ruim|meer\s+dan)\s+(?:\w+\s+){0,2}(?:weken|maanden|jaar)\s+(?:\w+\s+){0,2}(?:nog\s+(?:steeds\s+|altijd\s+)?(?:niet|geen)|niet\s+behandeld|geen\s+(?:besluit|antwoord|reactie))", "klaagt dat iets na lange tijd nog niet is gedaan"),
    _cue("klacht", r"\b(?:verkeerde|onjuiste|tegenstrijdige|foute)\s+informatie", "klaagt over verkeerde informatie"),
    _cue("klacht", r"\b(?:nationale\s+)?ombudsman\b", "dreigt met of noemt de ombudsman"),
    _cue("klacht", r"\b(?:schandalig|schande|bedroevend|diep\s+teleurgesteld|ontevreden\s+over\s+(?:de\s+)?(?:behandeling|afhandeling|manier))", "uit ontevredenheid"),
    _cue("beleidsvraag", r"\b(?:waarom\s+(?:gaat|gaan|wordt|worden|heeft|kiest|besluit)\s+(?:de\s+)?(?:gemeente|college|raad|ozb|tarie\w*|zwembad)?)", "vraagt naar een beleidskeuze"),
    _cue("beleidsvraag", r"\b(?:beleid|college(?:akkoord)?|coalitie|gemeenteraad|raadsvoorstel|begroting|bezuinig\w*|plannen\s+voor)\b", "gaat over beleid of politieke keuzes"),
    _cue("beleidsvraag", r"\b(?:petitie|handtekeningen|ik\s+(?:wil|zou\s+graag)\s+inspreken|inspreken|voorstel\s+(?:om|voor)|ik\s+stel\s+voor)", "doet een voorstel, petitie of inspreekverzoek"),
    _cue("beleidsvraag", r"\b(?:wat\s+is\s+(?:uw|jullie|het)\s+(?:standpunt|visie|mening|beleid)|wat\s+gaat\s+(?:de\s+gemeente|het\s+college|u)\s+doen)", "vraagt naar het standpunt van het bestuur"),
    _cue("overig", r"\bhierbij\s+(?:teken|maak)\s+ik\s+(?:\w+\s+)?bezwaar|\bbezwaarschrift\b|\bpro[\s-]?forma\s+bezwaar", "formeel bezwaar tegen een besluit (eigen procedure)"),
    _cue("overig", r"\b(?:wet\s+open\s+overheid|woo-verzoek|wob-verzoek|op\s+grond\s+van\s+de\s+woo)\b", "Woo-verzoek (eigen procedure)"),
    _cue("overig", r"\b(?:ik\s+ben\s+(?:afwezig|niet\s+aanwezig|met\s+vakantie)|out\s+of\s+(?:the\s+)?office|automatisch(?:e)?\s+(?:antwoord|bericht))", "automatisch antwoord of afwezigheidsmelding"),
    _cue("overig", r"\b(?:hartelijk\s+dank|bedankt\s+voor|compliment(?:en)?\s+(?:voor|aan)|fijn\s+(?:gesprek|geholpen)|top\s+geregeld)", "bedankt of geeft een compliment"),
    _cue("overig", r"\b(?:uitnodiging|nodigen\s+(?:wij\s+)?u\s+(?:graag\s+)?uit|save\s+the\s+date|agenda\s+voor)", "uitnodiging of agenda"),
    _cue("overig", r"\b(?:nieuwsbrief|afmelden|uitschrijven|unsubscribe|persbericht)\b", "nieuwsbrief of persbericht"),
    _cue("overig", r"\b(?:journalist|redactie|interview|voor\s+een\s+artikel|reactie\s+voor\s+(?:de\s+)?(?:krant|uitzending))", "persvraag"),
    _cue("overig", r"\b(?:sollicit\w*|vacature|factuur|offerte|ons\s+aanbod|vrijblijvend)\b", "sollicitatie, factuur of verkoop"),
    _cue("overig", r"\b(?:is\s+kapot|ligt\s+(?:al\s+)?(?:op\s+straat|omver)|wil\s+ik\s+(?:even\s+)?melden|graag\s+(?:even\s+)?melden)", "eerste melding van een probleem in de openbare ruimte"),
)


def find_cues(text: str, limit: int = 4) -> list[tuple[Cue, str]]:
    """The cues found in ``text`` with the matched words, at most ``limit``, in text order."""
    found: list[tuple[int, Cue, str]] = []
    for cue in CUES:
        match = cue.pattern.search(text)
        if match is not None:
            found.append((match.start(), cue, " ".join(match.group(0).split())))
    found.sort(key=lambda item: item[0])
    return [(cue, words) for _, cue, words in found[:limit]]


def find_cue_indices(text: str, limit: int = 4, among: Iterable[int] | None = None) -> list[tuple[int, Cue, str]]:
    """Like :func:`find_cues`, with each cue's index in :data:`CUES` (the model's cue feature); ``among``: only these cues."""
    found: list[tuple[int, int, Cue, str]] = []
    for index in range(len(CUES)) if among is None else sorted(among):
        cue = CUES[index]
        match = cue.pattern.search(text)
        if match is not None:
            found.append((match.start(), index, cue, " ".join(match.group(0).split())))
    found.sort(key=lambda item: item[0])
    return [(index, cue, words) for _, index, cue, words in found[:limit]]
