"""No single part of a message decides its label with certainty on its own; the reasons come from what weighed.

Each test takes a plain complaint and adds one overwhelming part (a 100 KB
subject, repeated lines, a pasted newsletter, a legal footer, a long quoted
thread): the complaint must still be registered or sent to review.
"""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.classifier import Classifier
from classifiers.cues import CUES
from classifiers.linear import cue_columns
from classifiers.pipeline import get_head
from classifiers.prepare import SUBJECT_CHARS, prepare

COMPLAINT = (
    "Geachte wethouder,\n\nSinds november wacht ik op een beslissing over mijn Wmo-aanvraag voor een traplift. "
    "Ik heb al vier keer gebeld en elke keer is beloofd dat ik word teruggebeld. Dat gebeurt nooit. "
    "De consulent was bovendien onbeschoft tegen mijn dochter.\n\nMet vriendelijke groet,\nMevrouw A. Jansen\n"
)
NEWSLETTER = (
    "NIEUWSBRIEF WIJKVERENIGING DE BLOEMHOF - editie maart\n\n"
    "Save the date: op zaterdag 14 maart is de jaarlijkse voorjaarsmarkt op het plein. Er zijn kramen met planten, "
    "tweedehands boeken en zelfgebakken taart. Kinderen kunnen zich laten schminken. De opbrengst gaat naar de speeltuin.\n\n"
    "Agenda: dinsdag 17 maart ledenvergadering in het buurthuis, aanvang 20.00 uur. Op de agenda staan de jaarrekening, "
    "de verkiezing van een nieuwe penningmeester en de plannen voor het zomerfeest.\n\n"
    "Uit de buurt: de bibliotheek heeft een nieuwe leesclub voor senioren. Aanmelden kan bij de balie. "
    "Wilt u deze nieuwsbrief niet meer ontvangen? Klik dan hier om u af te melden.\n\n"
)
FOOTER = (
    "Dit bericht is uitsluitend bestemd voor de geadresseerde. Aan dit bericht kunnen geen rechten worden ontleend. "
    "Indien u dit bericht ten onrechte ontvangt, wordt u verzocht de afzender te informeren en het bericht te verwijderen. "
)
THREAD = "".join(
    f"\n\nOp ma {day} mrt. 2026 om 09:{day:02d} schreef Nieuwsbrief <info@bloemhof.nl>:\n" + "\n".join("> " + line for line in NEWSLETTER.split("\n"))
    for day in range(1, 25)
)


def caught(classifier: Classifier, subject: str, body: str) -> bool:
    result = classifier.classify(subject, body)
    return result.needs_review or result.scores["klacht"] >= classifier.meta.review_threshold


def test_the_plain_complaint_is_a_klacht(classifier: Classifier) -> None:
    result = classifier.classify("Traplift", COMPLAINT)
    assert result.label == "klacht"
    assert result.scores["klacht"] >= classifier.meta.register_threshold


@pytest.mark.parametrize(
    "subject",
    [
        "Uitnodiging nieuwsbrief " * 5000,
        ("Save the date voorjaarsmarkt en ledenvergadering. " * 2100)[:102_400],
        "x" * 102_400,
    ],
    ids=["repeated-words", "newsletter-words", "one-token"],
)
def test_a_complaint_with_a_100_kb_subject_is_a_klacht_or_goes_to_review(classifier: Classifier, subject: str) -> None:
    assert len(subject) >= 100_000
    result = classifier.classify(subject, COMPLAINT)
    assert result.label == "klacht" or result.scores["klacht"] >= classifier.meta.review_threshold
    assert not (result.label == "overig" and result.confidence >= 0.9)
    assert any("onderwerp is erg lang" in r for r in result.reasons)


def test_only_the_start_of_a_long_subject_is_read() -> None:
    prepared = prepare(COMPLAINT, "Nieuwsbrief " * 10_000)
    assert prepared.subject_cut
    assert len(prepared.text) < len(COMPLAINT) + SUBJECT_CHARS + 10
    assert "Wmo-aanvraag" in prepared.text


def test_a_complaint_with_a_line_repeated_a_thousand_times_is_caught(classifier: Classifier) -> None:
    body = COMPLAINT + "\n" + "Wilt u deze nieuwsbrief niet meer ontvangen? Klik dan hier om u af te melden.\n" * 1000
    assert caught(classifier, "Traplift", body)
    result = classifier.classify("Traplift", body)
    assert any("herhaalde regels" in r for r in result.reasons)


def test_repeated_lines_are_read_once() -> None:
    prepared = prepare(COMPLAINT + "\nKlik hier om af te melden.\n" * 500 + "ja\n" * 50)
    assert prepared.collapsed
    assert prepared.text.count("Klik hier om af te melden.") == 1
    assert prepared.text.count("ja") <= 2


@pytest.mark.parametrize("copies", [1, 3, 8], ids=["one", "three", "eight"])
def test_a_complaint_above_a_pasted_newsletter_is_caught(classifier: Classifier, copies: int) -> None:
    # every copy a little different, so collapsing repeated lines does not help
    pasted = "".join(NEWSLETTER.replace("maart", f"maart ({n})") for n in range(copies))
    assert caught(classifier, "Traplift", COMPLAINT.replace("Met vriendelijke groet,\nMevrouw A. Jansen\n", "") + "\n" + pasted)


def test_a_complaint_below_a_pasted_newsletter_is_caught(classifier: Classifier) -> None:
    pasted = "".join(NEWSLETTER.replace("maart", f"maart ({n})") for n in range(3))
    assert caught(classifier, "Fwd nieuwsbrief", pasted + "\n" + COMPLAINT)


def test_a_complaint_with_a_long_legal_footer_is_caught(classifier: Classifier) -> None:
    footer = "\n\n".join(FOOTER + f"(kenmerk {n})" for n in range(40))
    assert caught(classifier, "Traplift", COMPLAINT + "\n" + footer)


def test_a_complaint_above_a_long_quoted_thread_is_caught_and_the_thread_is_not_read(classifier: Classifier) -> None:
    result = classifier.classify("Re: nieuwsbrief", COMPLAINT + THREAD)
    assert result.needs_review or result.scores["klacht"] >= classifier.meta.review_threshold
    assert any("eerdere berichten" in r for r in result.reasons)


def test_a_newsletter_on_its_own_is_not_a_klacht(classifier: Classifier) -> None:
    result = classifier.classify("Nieuwsbrief maart", NEWSLETTER)
    assert result.label == "overig"


# -- reasons come from what weighed ---------------------------------------------------------


def _without_cue_weight(classifier: Classifier, index: int) -> Classifier:
    """A copy of the model in which cue ``index`` carries no weight at all."""
    import copy

    nlp = copy.deepcopy(classifier.nlp)
    head = get_head(nlp)
    head.coef = head.coef.copy()
    head.coef[:, cue_columns()[index]] = 0.0
    return Classifier(nlp, classifier.meta)


def test_a_cue_phrase_is_a_reason_only_while_the_model_gives_it_weight(classifier: Classifier) -> None:
    index = next(i for i, cue in enumerate(CUES) if cue.explanation == "beschrijft onheuse bejegening")
    text = "De medewerker aan de balie was onbeschoft tegen mij toen ik mijn paspoort kwam ophalen."
    with_weight = classifier.classify("", text)
    assert any("onheuse bejegening" in r for r in with_weight.reasons), with_weight.reasons
    without = _without_cue_weight(classifier, index).classify("", text)
    assert not any("onheuse bejegening" in r for r in without.reasons), without.reasons


def test_the_passage_shown_is_the_one_that_raised_the_complaint_score(classifier: Classifier) -> None:
    pasted = "".join(NEWSLETTER.replace("maart", f"maart ({n})") for n in range(3))
    body = pasted + "\nDe consulent was onbeschoft tegen mijn dochter en ik heb al vier keer gebeld zonder dat iemand terugbelt.\n"
    result = classifier.classify("Nieuwsbrief", body)
    (shown,) = [r for r in result.reasons if r.startswith("passage die als klacht is meegewogen")]
    assert "onbeschoft" in shown
    # without the mixed-in passage the message would have scored lower for klacht
    alone = Classifier(classifier.nlp, type(classifier.meta)(**{**classifier.meta.__dict__, "segment_weight": 0.0})).classify("Nieuwsbrief", body)
    assert alone.scores["klacht"] < result.scores["klacht"]


def test_a_message_without_a_complaint_passage_shows_none(classifier: Classifier) -> None:
    result = classifier.classify("Nieuwsbrief maart", NEWSLETTER)
    assert not any(r.startswith("passage die als klacht") for r in result.reasons)


def test_scores_are_probabilities(classifier: Classifier) -> None:
    result = classifier.classify("Traplift", COMPLAINT + NEWSLETTER)
    assert np.isclose(sum(result.scores.values()), 1.0)




def test_a_batch_read_in_chunks_judges_each_message_as_it_would_alone(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    import classifiers.classifier as module

    items = [("Klacht", COMPLAINT, (), 0), ("Nieuwsbrief", NEWSLETTER * 3, (), 0), ("", COMPLAINT + FOOTER * 5, (), 0), ("Vraag", "Wanneer komt het nieuwe beleid?", (), 0)]
    alone = [classifier.classify_many([item])[0] for item in items]
    monkeypatch.setattr(module, "CHUNK_CHARS", len(COMPLAINT) + 1)  # every chunk one or two texts
    chunked = classifier.classify_many(items)
    assert [(c.label, c.scores, c.reasons) for c in chunked] == [(c.label, c.scores, c.reasons) for c in alone]
    assert [c.label for c in chunked][:2] == ["klacht", "overig"]
