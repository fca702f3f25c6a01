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


# -- languages and dialects close to Dutch ---------------------------------------------

CLOSE_VARIETIES = {
    "af": "Goeie dag, ek het nou al drie keer na die munisipaliteit gebel oor my aansoek, maar niemand het my teruggebel nie. Ek is baie ontevrede en wil asseblief weet wat julle gaan doen.",
    "fy": "Goeie, ik haw no al trije kear belle oer myn oanfraach, mar gjinien fan de gemeente hat my weromskille. Wy binne tige teloarsteld en ik wol graach witte wat jimme dêr oan dwaan.",
    "li": "Hallo, ich höb al drie kieër gebeld euver mien aanvraog mer gein mins vaan de gemeinte haet miech trökgebeld. Veer zien ouch neet blij dao mit en ich wil weite wat geer noe doet.",
    "vls": "Allee, kheb al drie keer gebeld voor mijn aanvraag moa niemand ee ulder teruggebeld. Ge moet da toch ni zo doen, awel, ik zyn da efkes beu en ge goa dat seffens oplossen zeker.",
}
STAYS_DUTCH = {
    "nl": "Geachte heer, mevrouw, ik heb al drie keer gebeld over mijn aanvraag voor een parkeervergunning en niemand belt mij terug. Ik vind dit niet netjes en wil graag weten wat u gaat doen.",
    "nl-be": "Geachte mevrouw de schepen, ik heb reeds driemaal telefonisch contact opgenomen met het stadsbestuur over mijn aanvraag, maar ik heb nog steeds geen antwoord ontvangen. Graag had ik vernomen wanneer mijn dossier behandeld wordt.",
    "nl-laaggeletterd": "hallo ik heb al 4 keer gebelt over me uitkering die is nie gestort en elke keer zegge ze we belle u terug maar er belt nooit iemant terug ik wil dat de wethouder hier naar kijkt",
}


@pytest.mark.parametrize(("language", "text"), CLOSE_VARIETIES.items(), ids=CLOSE_VARIETIES.keys())
def test_a_language_or_dialect_close_to_dutch_is_recognised(language: str, text: str) -> None:
    assert detect_language(text).language == language


@pytest.mark.parametrize("text", STAYS_DUTCH.values(), ids=STAYS_DUTCH.keys())
def test_standard_and_belgian_standard_dutch_and_misspelled_dutch_stay_dutch(text: str) -> None:
    assert detect_language(text).language == "nl"


def test_an_english_complaint_stays_english() -> None:
    assert detect_language("I have been waiting for an answer from the municipality for three months and nobody replies to my emails.").language == "en"


def test_a_german_complaint_is_not_taken_for_limburgish() -> None:
    assert detect_language("Ich habe dreimal angerufen und niemand hat mich zurückgerufen. Ich bin sehr enttäuscht von der Gemeinde.").language == "de"
