"""The cue phrases run on RE2 and must find exactly what Python's ``re`` finds with the same patterns."""

from __future__ import annotations

import re

from classifiers.corpus import load_corpus
from classifiers.cues import CUES, find_cue_indices

#: Non-ASCII words around and inside cue phrases: RE2's own \w and \b would read these differently.
UNICODE_CASES = (
    "Ik heb al één keer of twéé keer gebeld, en nu al drie keer geïnformeerd en gemaild.",
    "Wij wachten al vijf maanden op reactie, café-eigenaar en privé: géén antwoord gekregen.",
    "De medewerker was ONBESCHOFT en neerbuigend; ik ben diep teleurgesteld. Ombudsman!",
    "Vraag over het beleid van de coalitie en de begroting; waarom wordt het zwembad gesloten?",
)


def _python_matches(source: str, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(source, text, re.IGNORECASE)]


def test_re2_finds_what_python_re_finds_on_corpus_text_and_accented_words() -> None:
    texts = [f"{e.subject}\n{e.body}" for e in load_corpus()[::9]] + list(UNICODE_CASES)
    for cue in CUES:
        for text in texts:
            found = [(m.start(), m.end()) for m in cue.pattern.finditer(text)]
            assert found == _python_matches(cue.source, text), (cue.explanation, text[:80])


def test_a_cue_is_found_with_the_words_that_matched() -> None:
    found = find_cue_indices("Ik heb al drie keer gebeld. De medewerker was onbeschoft.")
    assert [(CUES[i].explanation, words) for i, _, words in found] == [
        ("meldt herhaald contact zonder resultaat", "al drie keer gebeld"),
        ("beschrijft onheuse bejegening", "onbeschoft"),
    ]
