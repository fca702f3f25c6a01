"""The shipped classifier on bad input: never an exception, always a label and at least one reason.

Mail that cannot be judged (no text, unreadable text, another language)
is sent to review with a Dutch reason; the clear cases of the labeling
guide's hard-cases table get the guide's labels.
"""

from __future__ import annotations

import math
import random
import re
from email.message import EmailMessage
from typing import Any

import pytest

from classifiers.language import detect_language
from classifiers.records import LABELS, Classification

FIVE_MB = 5 * 1024 * 1024
_QUOTED = re.compile(r"'[^']*'")


def random_bytes(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


def assert_judgment(result: Classification, classifier: Any) -> None:
    """The contract every judgment keeps, whatever the input."""
    assert result.label in LABELS
    assert set(result.scores) == set(LABELS)
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())
    assert math.fsum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.confidence == result.scores[result.label]
    assert result.model == classifier.meta.model_id
    assert result.reasons, "a judgment without any reason"
    assert all(isinstance(r, str) and r.strip() for r in result.reasons)


def assert_dutch_reasons(result: Classification) -> None:
    """The reasons, without the words they quote from the message, read as Dutch."""
    own_words = " ".join(_QUOTED.sub(" ", reason) for reason in result.reasons)
    assert detect_language(own_words + " " + own_words).language in ("nl", "und"), result.reasons
    assert not re.search(r"\b(?:the|and|because|message|language|review)\b", own_words, re.IGNORECASE), result.reasons


def eml(subject: str, *, text: str | None = None, html: str | None = None, attachment: tuple[str, str, bytes] | None = None, charset: str = "utf-8") -> bytes:
    msg = EmailMessage()
    msg["From"] = "A. Jansen <a.jansen@ziggo.nl>"
    msg["To"] = "wethouder@gemeente-veenstad.nl"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Mar 2026 09:30:00 +0100"
    msg["Message-ID"] = "<bad-input@example.nl>"
    if text is not None:
        msg.set_content(text, charset=charset)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    if attachment is not None:
        name, ctype, data = attachment
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def classify_raw(classifier: Any, raw: bytes) -> Classification:
    from ingest.parse import parse_message

    parsed = parse_message(raw)
    return classifier.classify(parsed.subject, parsed.text, auto_signals=parsed.auto_signals, attachments=len(parsed.attachments))


# -- no text ----------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   ", "\n\n\t \r\n", "\u00a0\u00a0\n"], ids=["empty", "spaces", "blank-lines", "nbsp"])
def test_an_empty_or_blank_body_gets_a_label_and_a_reason(classifier: Any, body: str) -> None:
    result = classifier.classify("", body)
    assert_judgment(result, classifier)
    assert result.label == "overig"
    assert any("geen tekst" in r for r in result.reasons)
    assert not result.needs_review


def test_a_message_with_only_an_attachment_and_no_subject_goes_to_review(classifier: Any) -> None:
    result = classifier.classify("", "", attachments=1)
    assert_judgment(result, classifier)
    assert result.needs_review
    assert any("alleen een bijlage" in r for r in result.reasons)


def test_a_message_with_only_an_attachment_and_a_subject_goes_to_review(classifier: Any) -> None:
    result = classifier.classify("Scan", "", attachments=1)
    assert_judgment(result, classifier)
    assert result.needs_review


def test_a_mail_with_only_a_pdf_attachment_goes_to_review(classifier: Any) -> None:
    raw = eml("", attachment=("scan_0001.pdf", "application/pdf", b"%PDF-1.4\n" + random_bytes(5, 4000)))
    result = classify_raw(classifier, raw)
    assert_judgment(result, classifier)
    assert result.needs_review


# -- unreadable or enormous text -----------------------------------------------------


def test_five_megabytes_of_dutch_text_are_judged_on_the_first_part(classifier: Any) -> None:
    sentence = "Ik heb al drie keer gebeld over mijn traplift en niemand belt terug. "
    body = sentence * (FIVE_MB // len(sentence) + 1)
    assert len(body) >= FIVE_MB
    result = classifier.classify("Klacht traplift", body)
    assert_judgment(result, classifier)
    assert result.prepared_chars <= 20_000


def test_a_five_megabyte_mail_is_parsed_and_judged(classifier: Any) -> None:
    paragraph = "Geachte wethouder, de consulent was onbeschoft en ik wacht al maanden op een besluit over mijn Wmo-aanvraag.\n"
    raw = eml("Klacht Wmo", text=paragraph * (FIVE_MB // len(paragraph) + 1))
    assert len(raw) >= FIVE_MB
    result = classify_raw(classifier, raw)
    assert_judgment(result, classifier)
    assert result.label == "klacht"


def test_five_megabytes_of_one_unbroken_token_get_a_reason(classifier: Any) -> None:
    result = classifier.classify("", "QUJD" * (FIVE_MB // 4))
    assert_judgment(result, classifier)


@pytest.mark.parametrize(
    "junk",
    [
        "\x00\x01\x02\ufffd\x7f" * 2000,
        random_bytes(1, 20_000).decode("latin-1"),
        random_bytes(2, 20_000).decode("utf-8", "replace"),
        random_bytes(3, 20_000).decode("cp1252", "replace"),
    ],
    ids=["control-chars", "bytes-as-latin-1", "bytes-as-utf-8", "bytes-as-cp1252"],
)
def test_binary_junk_as_text_goes_to_review(classifier: Any, junk: str) -> None:
    result = classifier.classify("Document", junk)
    assert_judgment(result, classifier)
    assert result.needs_review
    assert any("onleesbaar" in r for r in result.reasons)
    assert_dutch_reasons(result)


def test_binary_junk_in_a_text_part_goes_to_review(classifier: Any) -> None:
    junk = random_bytes(4, 20_000)
    msg = EmailMessage()
    msg["From"] = "scanner@example.nl"
    msg["To"] = "wethouder@gemeente-veenstad.nl"
    msg["Subject"] = "Document"
    msg.set_content(junk, maintype="text", subtype="plain", cte="base64")
    result = classify_raw(classifier, bytes(msg))
    assert_judgment(result, classifier)
    assert result.needs_review


def test_an_html_only_mail_is_judged_on_its_text(classifier: Any) -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>var x = 'klacht';</script></head><body>"
        "<p>Geachte wethouder,</p><p>Ik heb de kapotte lantaarnpaal voor ons huis <b>al drie keer gemeld</b> "
        "en niemand doet iets. Het is 's avonds aardedonker in de straat.</p>"
        "<p>Met vriendelijke groet,<br>Piet Bakker</p></body></html>"
    )
    result = classify_raw(classifier, eml("Lantaarnpaal", html=html))
    assert_judgment(result, classifier)
    assert result.label == "klacht"
    assert not result.needs_review


def test_an_html_only_mail_with_nothing_but_markup_gets_a_reason(classifier: Any) -> None:
    result = classify_raw(classifier, eml("", html="<html><body><img src='cid:logo'><table><tr><td></td></tr></table></body></html>"))
    assert_judgment(result, classifier)
    assert result.label == "overig"


# -- other languages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Sehr geehrte Damen und Herren, ich warte seit drei Monaten auf eine Antwort von Ihrer Gemeinde und bin sehr enttäuscht über die Behandlung.", "Duits"),
        ("Dzień dobry, piszę w sprawie mojego wniosku. Czekam już trzy miesiące i nikt nie odpowiada na moje maile. To jest skandal.", "Pools"),
        ("Merhaba, başvurum hakkında üç kez aradım ama kimse beni geri aramadı. Çok üzgünüm ve yardım istiyorum.", "Turks"),
        ("Добрий день, я вже три місяці чекаю на відповідь щодо моєї заяви, але ніхто не відповідає.", "Oekraïens"),
    ],
    ids=["de", "pl", "tr", "uk"],
)
def test_mail_in_another_language_goes_to_review_with_a_dutch_reason_naming_it(classifier: Any, body: str, name: str) -> None:
    result = classifier.classify("Klacht", body)
    assert_judgment(result, classifier)
    assert result.needs_review
    assert result.language not in ("nl", "en", "und")
    assert any(f"andere taal ({name})" in r for r in result.reasons), result.reasons
    assert_dutch_reasons(result)


def test_english_mail_is_judged_and_says_so(classifier: Any) -> None:
    result = classifier.classify("Complaint", "I have called the municipality three times about my parking permit and nobody has called me back. This is unacceptable.")
    assert_judgment(result, classifier)
    assert result.language == "en"
    assert not result.needs_review
    assert "bericht in het Engels" in result.reasons


# -- the clear hard cases of LABELING.md ---------------------------------------------------

HARD_CASES = [
    pytest.param("Ik heb de kapotte lantaarnpaal al drie keer gemeld en niemand doet iets.", "klacht", id="melding-genegeerd"),
    pytest.param("Waarom gaat de OZB weer omhoog?", "beleidsvraag", id="ozb"),
    pytest.param("Hierbij maak ik bezwaar tegen de beschikking van 3 maart.", "overig", id="bezwaar"),
    pytest.param("Dank voor het fijne gesprek met uw medewerker.", "overig", id="compliment"),
    pytest.param("De lantaarnpaal is kapot.", "overig", id="eerste-melding"),
]


@pytest.mark.parametrize(("text", "label"), HARD_CASES)
def test_the_guides_hard_cases_get_the_guides_labels(classifier: Any, text: str, label: str) -> None:
    result = classifier.classify("", text)
    assert math.fsum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.label == label


#: One-sentence complaints the model reads less surely: they must at least reach a secretary.
SHORT_HARD_COMPLAINTS = [
    pytest.param("Mijn bezwaar tegen de WOZ-beschikking is na vier maanden nog niet behandeld.", id="bezwaar-traag"),
    pytest.param("De consulent was onbeschoft; en wat is eigenlijk het beleid voor mantelzorgers?", id="klacht-en-vraag"),
]


@pytest.mark.parametrize("text", SHORT_HARD_COMPLAINTS)
def test_the_guides_one_sentence_hard_complaints_are_registered_or_sent_to_review(classifier: Any, text: str) -> None:
    result = classifier.classify("", text)
    assert result.scores["klacht"] >= classifier.meta.review_threshold, result.scores


@pytest.mark.parametrize(
    "text",
    [
        "Ik heb de kapotte lantaarnpaal al drie keer gemeld en niemand doet iets.",
        "Waarom gaat de OZB weer omhoog?",
        "Mijn bezwaar tegen de WOZ-beschikking is na vier maanden nog niet behandeld.",
        "Hierbij maak ik bezwaar tegen de beschikking van 3 maart.",
        "De consulent was onbeschoft; en wat is eigenlijk het beleid voor mantelzorgers?",
        "Dank voor het fijne gesprek met uw medewerker.",
    ],
)
def test_the_guides_hard_cases_get_dutch_reasons(classifier: Any, text: str) -> None:
    result = classifier.classify("", text)
    assert_judgment(result, classifier)
    assert_dutch_reasons(result)


COMPLAINT = (
    "Geachte wethouder,\n\nSinds november wacht ik op een beslissing over mijn Wmo-aanvraag voor een traplift. "
    "Ik heb al vier keer gebeld en elke keer wordt beloofd dat ik word teruggebeld. Dat gebeurt nooit. "
    "De consulent was bovendien onbeschoft tegen mijn dochter.\n\nMet vriendelijke groet,\nMevrouw A. Jansen\n"
)


def test_a_secretary_forwarding_a_citizens_complaint_is_a_klacht(classifier: Any) -> None:
    body = "Wethouder, zie hieronder.\n\nVan: A. Jansen <a.jansen@ziggo.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Secretariaat <secretariaat@veenstad.nl>\nOnderwerp: Klacht Wmo\n\n" + COMPLAINT
    result = classifier.classify("Fw: Klacht Wmo", body)
    assert_judgment(result, classifier)
    assert result.label == "klacht"
    assert "doorgestuurd bericht: beoordeeld op de doorgestuurde inhoud" in result.reasons


def test_an_auto_reply_quoting_a_complaint_is_overig(classifier: Any) -> None:
    body = (
        "Ik ben afwezig tot en met 10 maart en heb beperkt toegang tot mijn e-mail. Voor dringende zaken kunt u bellen met 14 0522.\n\n"
        "Op ma 3 mrt. 2026 om 14:02 schreef A. Jansen <a.jansen@ziggo.nl>:\n" + "".join(f"> {line}\n" for line in COMPLAINT.splitlines())
    )
    result = classifier.classify("Automatisch antwoord: Klacht Wmo", body, auto_signals=("auto-reply-subject", "auto-submitted"))
    assert_judgment(result, classifier)
    assert result.label == "overig"
    assert result.subtype == "auto-reply"


def test_a_journalist_asking_for_a_reaction_is_overig(classifier: Any) -> None:
    text = "Goedemiddag, ik ben journalist bij het Dagblad van het Noorden en schrijf een artikel over de sluiting van het zwembad. Kan ik de wethouder vandaag nog spreken voor een reactie?"
    result = classifier.classify("Verzoek om reactie", text)
    assert_judgment(result, classifier)
    assert result.label == "overig"


def test_a_reply_nog_steeds_niets_gehoord_above_a_quoted_complaint_is_a_klacht(classifier: Any) -> None:
    body = "nog steeds niets gehoord\n\nOp ma 3 mrt. 2026 om 14:02 schreef A. Jansen <a.jansen@ziggo.nl>:\n" + "".join(f"> {line}\n" for line in COMPLAINT.splitlines())
    result = classifier.classify("Re: Klacht Wmo", body)
    assert_judgment(result, classifier)
    assert result.label == "klacht"
    assert "eerdere berichten in de reactie zijn niet meegewogen" in result.reasons


def test_many_bad_messages_at_once_never_raise(classifier: Any) -> None:
    items = [("", "\x00" * 100, (), 0), ("", "Ok", (), 0), ("Klacht", "Ik heb een klacht.", ("auto-submitted",), 0), ("", "QUJD" * 10_000, (), 0)]
    results = classifier.classify_many(items)
    assert len(results) == len(items)
    for result in results:
        assert result.label in LABELS
        assert math.fsum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)


def test_a_batch_with_an_empty_message_among_others_never_raises(classifier: Any) -> None:
    # a reply that only quotes has no text of its own once the quote is dropped
    results = classifier.classify_many([("Re:", "> Wanneer wordt de container geleegd?", (), 0), ("Klacht", "Ik heb al drie keer gebeld en niemand belt terug.", (), 0)])
    assert results[0].label == "overig"
