"""Text preparation on the shapes real mail has: replies, forwards, signatures, disclaimers."""

from __future__ import annotations

import pytest

from classifiers.prepare import MAX_CHARS, OWN_TEXT_FORWARD_LIMIT, Prepared, prepare

COMPLAINT = """Geachte wethouder,

Sinds november wacht ik op een beslissing over mijn Wmo-aanvraag voor een traplift. Ik heb al vier keer gebeld en elke keer wordt beloofd dat ik word teruggebeld. Dat gebeurt nooit. De consulent was bovendien onbeschoft tegen mijn dochter.

Met vriendelijke groet,
Mevrouw A. Jansen
Lindelaan 4
06-41872390
"""
COMPLAINT_CORE = "De consulent was bovendien onbeschoft tegen mijn dochter."


def _quoted(text: str) -> str:
    return "".join(f"> {line}\n" if line else ">\n" for line in text.splitlines())


# -- replies: only the newest part counts ---------------------------------------


def test_a_gmail_reply_keeps_only_the_text_above_op_schreef() -> None:
    body = (
        "Nog steeds geen antwoord. Wanneer hoor ik iets?\n\n"
        "Op ma 3 mrt. 2026 om 14:02 schreef Jan de Vries <jan@x.nl>:\n"
        + _quoted("Geachte heer,\n\nMijn aanvraag voor een parkeervergunning ligt al tien weken stil.")
    )
    prepared = prepare(body, "Re: Parkeervergunning")
    assert "Nog steeds geen antwoord" in prepared.text
    assert "tien weken" not in prepared.text
    assert "schreef" not in prepared.text
    assert prepared.dropped_quote
    assert not prepared.forwarded


@pytest.mark.parametrize(
    "header",
    [
        "Op ma 3 mrt. 2026 om 14:02 schreef Klantcontactcentrum Gemeente Veenstad <\nklantcontact@gemeente-veenstad.nl>:",
        "Op ma 3 mrt. 2026 om 14:02 schreef Klantcontactcentrum Gemeente Veenstad\n<klantcontact@gemeente-veenstad.nl>:",
        "Op 3 mrt. 2026, om 14:02 heeft Jan de Vries <jan@x.nl> het volgende\ngeschreven:",
    ],
    ids=["address-wrapped", "name-wrapped", "apple-wrapped"],
)
def test_a_reply_header_wrapped_over_two_lines_is_removed_with_the_quote(header: str) -> None:
    body = "Dit lost mijn probleem niet op.\n\n" + header + "\n\n" + _quoted("Geachte heer, uw aanvraag is in behandeling.")
    prepared = prepare(body, "Re: Aanvraag")
    assert prepared.text == "Aanvraag.\nDit lost mijn probleem niet op."
    assert prepared.dropped_quote


def test_an_apple_mail_reply_header_is_not_left_in_the_text() -> None:
    body = (
        "Dank voor uw antwoord, maar dit lost niets op.\n\n"
        "Op 3 mrt. 2026, om 14:02 heeft Jan de Vries <jan@x.nl> het volgende geschreven:\n\n"
        + _quoted("Geachte heer, wij hebben uw melding doorgezet.")
    )
    prepared = prepare(body)
    assert prepared.text == "Dank voor uw antwoord, maar dit lost niets op."


def test_quoted_lines_are_dropped_even_without_a_reply_header() -> None:
    body = "> Wanneer wordt de container geleegd?\n> Groet, Piet\n\nDe container is weer niet geleegd, voor de vierde keer."
    prepared = prepare(body)
    assert prepared.text == "De container is weer niet geleegd, voor de vierde keer."
    assert prepared.dropped_quote


def test_prose_that_mentions_what_an_official_wrote_is_not_cut_as_a_reply_header() -> None:
    body = (
        "Geachte heer,\n\n"
        "Op 12 januari heb ik gebeld over de traplift.\n"
        "Uw medewerker schreef mij daarna:\n"
        "we bellen u binnen een week terug.\n"
        "Ik heb nooit meer iets gehoord en dit is de derde keer dat dit gebeurt."
    )
    prepared = prepare(body)
    assert "nooit meer iets gehoord" in prepared.text
    assert not prepared.dropped_quote


@pytest.mark.parametrize(
    "block",
    [
        "Van: Gemeente Veenstad <info@veenstad.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Jan de Vries <jan@x.nl>\nOnderwerp: RE: Afvalinzameling",
        "From: Gemeente Veenstad <info@veenstad.nl>\nSent: Monday, March 3, 2026 2:02 PM\nTo: Jan de Vries <jan@x.nl>\nSubject: RE: Afvalinzameling",
        "*Van:* Gemeente Veenstad <info@veenstad.nl>\n*Verzonden:* maandag 3 maart 2026 14:02\n*Aan:* Jan de Vries <jan@x.nl>\n*Onderwerp:* RE: Afvalinzameling",
        "-----Oorspronkelijk bericht-----\nVan: Gemeente Veenstad <info@veenstad.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Jan de Vries <jan@x.nl>\nOnderwerp: RE: Afvalinzameling",
    ],
    ids=["outlook-nl", "outlook-en", "outlook-html-bold", "oorspronkelijk-bericht"],
)
def test_an_outlook_reply_keeps_only_the_text_above_the_header_block(block: str) -> None:
    body = "De container is weer niet geleegd, voor de vierde keer.\n\n" + block + "\n\nGeachte heer De Vries, wij hebben uw melding ontvangen en doorgezet naar de inzamelaar.\n"
    prepared = prepare(body, "RE: Afvalinzameling")
    assert prepared.text == "Afvalinzameling.\nDe container is weer niet geleegd, voor de vierde keer."
    assert prepared.dropped_quote
    assert not prepared.forwarded


@pytest.mark.parametrize(
    ("subject", "history"),
    [
        ("Re: Klacht Wmo", "Op ma 3 mrt. 2026 om 14:02 schreef A. Jansen <a.jansen@ziggo.nl>:\n" + _quoted(COMPLAINT)),
        ("RE: Klacht Wmo", "-----Oorspronkelijk bericht-----\nVan: A. Jansen <a.jansen@ziggo.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Wethouder Bakker <wethouder@veenstad.nl>\nOnderwerp: Klacht Wmo\n\n" + COMPLAINT),
        ("Antw: Klacht Wmo", "Van: A. Jansen <a.jansen@ziggo.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Wethouder Bakker <wethouder@veenstad.nl>\nOnderwerp: Klacht Wmo\n\n" + COMPLAINT),
    ],
    ids=["gmail", "outlook-oorspronkelijk", "outlook-block"],
)
def test_a_reply_saying_nog_steeds_niets_gehoord_above_a_quoted_complaint_keeps_only_the_newest_part(subject: str, history: str) -> None:
    prepared = prepare("nog steeds niets gehoord\n\n" + history, subject)
    assert prepared.text == "Klacht Wmo.\nnog steeds niets gehoord"
    assert prepared.dropped_quote
    assert not prepared.forwarded


# -- signatures, sign-offs, disclaimers, "sent from" ----------------------------


def test_a_signature_after_the_dash_dash_line_is_dropped() -> None:
    body = "Ik heb al drie keer gebeld over mijn bouwvergunning en niemand belt terug.\n\n-- \nJan de Vries | Kerkstraat 12 | 06-12345678\nwww.devries-bouw.nl\n"
    prepared = prepare(body)
    assert prepared.text == "Ik heb al drie keer gebeld over mijn bouwvergunning en niemand belt terug."
    assert prepared.dropped_signature


@pytest.mark.parametrize("signoff", ["Met vriendelijke groet,", "Met vriendelijke groeten,", "Vriendelijke groet", "Hoogachtend,", "Mvg,", "Kind regards,"])
def test_a_sign_off_with_name_address_and_phone_lines_is_dropped(signoff: str) -> None:
    body = (
        "Geachte heer/mevrouw,\n\n"
        "Ik heb al drie keer gebeld over mijn bouwvergunning en niemand belt terug.\n\n"
        f"{signoff}\n\nJan de Vries\nKerkstraat 12\n1234 AB Veenstad\nTel. 06-12345678\n"
    )
    prepared = prepare(body)
    assert prepared.text == "Geachte heer/mevrouw,\n\nIk heb al drie keer gebeld over mijn bouwvergunning en niemand belt terug."
    assert prepared.dropped_signature


def test_a_greeting_word_at_the_start_does_not_cut_the_message() -> None:
    body = "Groeten,\n\nIk wil graag weten waarom het zwembad dichtgaat. Dat vind ik een slechte keuze."
    assert "zwembad dichtgaat" in prepare(body).text


@pytest.mark.parametrize(
    "disclaimer",
    [
        "Dit bericht is uitsluitend bestemd voor de geadresseerde. Indien u dit\nbericht onterecht ontvangt, wordt u verzocht de inhoud niet te gebruiken\nen de afzender direct te informeren door het bericht te retourneren.\nAan dit bericht kunnen geen rechten worden ontleend.",
        "Indien u dit bericht onterecht ontvangt, wordt u verzocht de inhoud niet te\ngebruiken. De informatie verzonden met dit e-mailbericht is uitsluitend\nbestemd voor de geadresseerde.",
        "CONFIDENTIALITY NOTICE: The contents of this message are confidential.\nThis e-mail and any attachments are intended solely for the addressee;\nif you received it in error, please delete it.",
    ],
    ids=["nl-first-line", "nl-middle-line", "en-middle-line"],
)
def test_a_disclaimer_paragraph_is_dropped_whole(disclaimer: str) -> None:
    body = "Waarom gaat de OZB weer omhoog dit jaar? Ik snap dat echt niet.\n\n" + disclaimer + "\n"
    prepared = prepare(body, "Vraag over de OZB")
    assert prepared.text == "Vraag over de OZB.\nWaarom gaat de OZB weer omhoog dit jaar? Ik snap dat echt niet."
    assert prepared.dropped_signature


def test_a_disclaimer_below_a_sign_off_goes_with_it() -> None:
    body = (
        "Waarom gaat de OZB weer omhoog dit jaar?\n\nGroeten,\nPiet Bakker\n\n"
        "Dit bericht is uitsluitend bestemd voor de geadresseerde. Indien u dit\nbericht onterecht ontvangt, verwijder het dan.\n"
    )
    assert prepare(body).text == "Waarom gaat de OZB weer omhoog dit jaar?"


@pytest.mark.parametrize(
    "footer",
    ["Verzonden vanaf mijn iPhone", "Sent from my iPhone", "Verstuurd vanaf Outlook voor Android", "Verzonden met BlueMail", "Verstuurd vanaf mijn Samsung Galaxy-smartphone.", "Get Outlook for Android", "Download Outlook voor iOS"],
)
def test_a_sent_from_my_phone_line_is_dropped(footer: str) -> None:
    prepared = prepare(f"De lantaarnpaal voor nummer 12 is kapot.\n\n{footer}\n")
    assert prepared.text == "De lantaarnpaal voor nummer 12 is kapot."
    assert prepared.dropped_signature


# -- forwards ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Fwd: Klacht Wmo", "---------- Doorgestuurd bericht ---------\nVan: A. Jansen <a.jansen@ziggo.nl>\nDate: ma 3 mrt. 2026 om 14:02\nSubject: Klacht Wmo\nTo: <wethouder@veenstad.nl>\n\n" + COMPLAINT),
        ("Fwd: Klacht Wmo", "---------- Forwarded message ---------\nFrom: A. Jansen <a.jansen@ziggo.nl>\nDate: Mon, 3 Mar 2026 at 14:02\nSubject: Klacht Wmo\nTo: <wethouder@veenstad.nl>\n\n" + COMPLAINT),
        ("Fwd: Klacht Wmo", "\n\nBegin doorgestuurd bericht:\n\nVan: A. Jansen <a.jansen@ziggo.nl>\nOnderwerp: Klacht Wmo\nDatum: 3 maart 2026 om 14:02:11 CET\nAan: wethouder@veenstad.nl\n\n" + COMPLAINT),
        ("Fw: Klacht Wmo", "Van: A. Jansen <a.jansen@ziggo.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Wethouder Bakker <wethouder@veenstad.nl>\nOnderwerp: Klacht Wmo\n\n" + COMPLAINT),
        ("Doorst: Klacht Wmo", "\n\n*Van:* A. Jansen <a.jansen@ziggo.nl>\n*Verzonden:* maandag 3 maart 2026 14:02\n*Aan:* Wethouder Bakker <wethouder@veenstad.nl>\n*Onderwerp:* Klacht Wmo\n\n" + COMPLAINT),
        ("WG: Klacht Wmo", "Von: A. Jansen <a.jansen@ziggo.nl>\nGesendet: Montag, 3. März 2026 14:02\nAn: Wethouder Bakker <wethouder@veenstad.nl>\nBetreff: Klacht Wmo\n\n" + COMPLAINT),
        ("FW: Klacht Wmo", "-----Oorspronkelijk bericht-----\nVan: A. Jansen <a.jansen@ziggo.nl>\nVerzonden: maandag 3 maart 2026 14:02\nAan: Wethouder Bakker <wethouder@veenstad.nl>\nOnderwerp: Klacht Wmo\n\n" + COMPLAINT),
    ],
    ids=["gmail-nl", "gmail-en", "apple-nl", "outlook-fw", "outlook-doorst", "outlook-wg", "outlook-oorspronkelijk"],
)
def test_a_forward_without_own_text_is_judged_on_the_forwarded_content(subject: str, body: str) -> None:
    prepared = prepare(body, subject)
    assert prepared.forwarded
    assert COMPLAINT_CORE in prepared.text
    assert prepared.text.startswith("Klacht Wmo.\n")
    # the forwarded headers and the citizen's sign-off are gone
    for noise in ("a.jansen@ziggo.nl", "Verzonden:", "Onderwerp:", "Subject:", "06-41872390"):
        assert noise not in prepared.text


@pytest.mark.parametrize("own", ["Wethouder, zie hieronder.", "Ter info, graag oppakken.\n\nGroet,\nKarin\nSecretariaat wethouder Bakker"])
def test_a_forward_with_a_little_own_text_keeps_the_forwarded_content_too(own: str) -> None:
    body = own + "\n\n---------- Doorgestuurd bericht ---------\nVan: A. Jansen <a.jansen@ziggo.nl>\nDate: ma 3 mrt. 2026 om 14:02\nSubject: Klacht Wmo\nTo: <wethouder@veenstad.nl>\n\n" + COMPLAINT
    prepared = prepare(body, "Fwd: Klacht Wmo")
    assert prepared.forwarded
    assert COMPLAINT_CORE in prepared.text
    assert own.split("\n")[0] in prepared.text


def test_a_forward_with_a_long_own_text_keeps_the_own_text() -> None:
    own = (
        "Beste collega's,\n\nIk stuur jullie hieronder de uitnodiging voor de regiobijeenkomst over de energietransitie door. "
        "Ik wil graag dat een van jullie namens de afdeling gaat en daarna een korte terugkoppeling geeft in het teamoverleg "
        "van donderdag, zodat we kunnen bepalen of we meedoen aan het regionale programma. Laat het me voor vrijdag weten.\n\nGroet,\nKarin"
    )
    assert len(own) > OWN_TEXT_FORWARD_LIMIT
    body = own + "\n\n---------- Forwarded message ---------\nFrom: Regio <info@regio.nl>\nDate: Mon, 3 Mar 2026\nSubject: Uitnodiging\nTo: <karin@veenstad.nl>\n\nWij nodigen u van harte uit voor de bijeenkomst op 12 maart.\n"
    prepared = prepare(body, "Fwd: Uitnodiging")
    assert not prepared.forwarded
    assert "terugkoppeling geeft in het teamoverleg" in prepared.text
    assert "nodigen u van harte uit" not in prepared.text


def test_a_forwarded_reply_chain_keeps_only_the_newest_forwarded_message() -> None:
    inner = "Ik heb nu al vier keer gebeld en niemand belt terug.\n\nOp ma 3 mrt. 2026 om 14:02 schreef Gemeente Veenstad <info@veenstad.nl>:\n> Uw aanvraag is in behandeling.\n"
    body = "---------- Doorgestuurd bericht ---------\nVan: A. Jansen <a.jansen@ziggo.nl>\nDate: di 4 mrt. 2026 om 09:10\nSubject: Re: aanvraag\nTo: <wethouder@veenstad.nl>\n\n" + inner
    prepared = prepare(body, "Fwd: Re: aanvraag")
    assert prepared.forwarded
    assert "vier keer gebeld" in prepared.text
    assert "in behandeling" not in prepared.text


# -- subject and length ------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Re: Kapotte lantaarnpaal", "RE: RE: Kapotte lantaarnpaal", "Fw: Kapotte lantaarnpaal", "FWD: Kapotte lantaarnpaal", "Antw: Kapotte lantaarnpaal", "AW: WG: Kapotte lantaarnpaal", "RE: Fw: Re: Kapotte lantaarnpaal", "Doorst: Kapotte lantaarnpaal", "Re[2]: Kapotte lantaarnpaal"],
)
def test_the_subject_is_prefixed_without_reply_and_forward_markers(subject: str) -> None:
    prepared = prepare("Ik heb het al drie keer gemeld en niemand doet iets.", subject)
    assert prepared.text == "Kapotte lantaarnpaal.\nIk heb het al drie keer gemeld en niemand doet iets."


def test_a_subject_already_in_the_opening_text_is_not_repeated() -> None:
    prepared = prepare("Kapotte lantaarnpaal voor nummer 12, al drie keer gemeld.", "Kapotte lantaarnpaal")
    assert prepared.text == "Kapotte lantaarnpaal voor nummer 12, al drie keer gemeld."


def test_a_subject_alone_is_the_text_when_the_body_is_empty() -> None:
    assert prepare("", "Re: Klacht over de balie").text == "Klacht over de balie"
    assert prepare("   \n\n ", "").text == ""


def test_windows_and_old_mac_line_ends_and_non_breaking_spaces_are_normalised() -> None:
    prepared = prepare("Nog\u00a0steeds niets gehoord.\r\n\r\nOp ma 3 mrt. 2026 om 14:02 schreef Jan <jan@x.nl>:\r\n> oud\r\n")
    assert prepared.text == "Nog steeds niets gehoord."


def test_text_longer_than_max_chars_is_truncated() -> None:
    body = "Ik heb al drie keer gebeld en niemand belt terug. " * (MAX_CHARS // 20)
    prepared = prepare(body, "Klacht")
    assert len(prepared.text) == MAX_CHARS
    assert prepared.truncated
    assert prepared.text.startswith("Klacht.\nIk heb al drie keer gebeld")


def test_text_at_the_limit_is_not_marked_truncated() -> None:
    body = "x" * MAX_CHARS
    prepared = prepare(body)
    assert len(prepared.text) == MAX_CHARS
    assert not prepared.truncated


def test_prepared_is_frozen() -> None:
    prepared = prepare("tekst")
    assert isinstance(prepared, Prepared)
    with pytest.raises(AttributeError):
        prepared.text = "anders"  # type: ignore[misc]
