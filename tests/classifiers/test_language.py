"""Language detection: Dutch and English are classified, everything else goes to review."""

from __future__ import annotations

import pytest

from classifiers.language import SUPPORTED, LanguageGuess, detect_language

SAMPLES = {
    "nl": "Geachte heer, ik heb al drie keer gebeld over mijn aanvraag en niemand van de gemeente belt mij terug.",
    "en": "Dear Sir, I have called the municipality three times about my application and nobody has called me back.",
    "de": "Sehr geehrte Damen und Herren, ich warte seit drei Monaten auf eine Antwort von Ihrer Gemeinde und bin sehr enttäuscht.",
    "fr": "Madame, Monsieur, je vous écris parce que je n'ai pas reçu de réponse de la mairie depuis trois mois.",
    "pl": "Dzień dobry, piszę w sprawie mojego wniosku. Czekam już trzy miesiące i nikt nie odpowiada na moje maile.",
    "tr": "Merhaba, başvurum hakkında üç kez aradım ama kimse beni geri aramadı. Çok üzgünüm ve yardım istiyorum.",
    "ar": "مرحبا، لقد اتصلت بالبلدية ثلاث مرات بخصوص طلبي ولم يتصل بي أحد حتى الآن.",
    "uk": "Добрий день, я вже три місяці чекаю на відповідь щодо моєї заяви, але ніхто не відповідає.",
    "ru": "Здравствуйте, я уже три месяца жду ответа по моему заявлению, но никто не отвечает.",
    "zh": "市政府三个月没有回复我的申请，我很失望。",
}


@pytest.mark.parametrize(("language", "text"), SAMPLES.items(), ids=SAMPLES.keys())
def test_a_complaint_is_recognised_in_its_language(language: str, text: str) -> None:
    guess = detect_language(text)
    assert guess.language == language
    assert 0.0 < guess.confidence <= 1.0


def test_dutch_and_english_are_the_supported_languages() -> None:
    assert SUPPORTED == ("nl", "en")


@pytest.mark.parametrize(
    "text",
    ["De lantaarnpaal is kapot.", "Waarom gaat de OZB weer omhoog?", "Dank voor het fijne gesprek met uw medewerker."],
)
def test_short_dutch_sentences_from_the_labeling_guide_are_dutch(text: str) -> None:
    assert detect_language(text).language == "nl"


def test_a_dutch_mail_with_an_english_phrase_is_dutch() -> None:
    text = "Beste, ik kreeg een 'out of office' terug, maar ik wacht al weken op een antwoord van de gemeente over mijn vergunning."
    assert detect_language(text).language == "nl"


def test_a_german_complaint_without_a_formal_greeting_is_german() -> None:
    assert detect_language("Ich habe dreimal angerufen und niemand hat zurückgerufen. Das ist nicht in Ordnung.").language == "de"


def test_a_polish_sentence_without_greeting_is_polish() -> None:
    assert detect_language("Nikt mi nie pomógł w urzędzie, czekam na odpowiedź od miesiąca.").language == "pl"


@pytest.mark.parametrize("text", ["", "   \n ", "Ok", "Dank!", "Ok ok ok", "12345 678 / 2026-03-03", "!!!", "Дякую", "شكرا"])
def test_very_short_text_is_undetermined(text: str) -> None:
    assert detect_language(text) == LanguageGuess("und", 0.0)


def test_only_the_start_of_a_long_text_is_read() -> None:
    text = SAMPLES["nl"] + " " + ("Sehr geehrte Damen und Herren, ich bin nicht zufrieden. " * 2000)
    assert detect_language(text).language == "de"  # the Dutch opening is a small share of the sample
    assert detect_language(SAMPLES["nl"] + " " + "x" * 10_000 + SAMPLES["de"] * 100).language == "nl"


def test_a_guess_is_a_frozen_value() -> None:
    guess = detect_language(SAMPLES["nl"])
    with pytest.raises(AttributeError):
        guess.language = "en"  # type: ignore[misc]
