"""The sample mail of the demo: a morning in three municipal mailboxes.

Every name and address is fictional.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

__all__ = ["SAMPLES", "build_samples"]

# (mailboxes, sender, subject, body, extra headers)
SAMPLES: list[tuple[tuple[str, ...], str, str, str, dict[str, str]]] = [
    (
        ("wethouder", "raad"),
        "Ria Hendriks <ria.hendriks@example.nl>",
        "Huishoudelijke hulp al drie maanden niet geregeld",
        "Geachte wethouder,\n\nIn januari heb ik huishoudelijke hulp aangevraagd via het wijkteam. Ik heb sindsdien vier keer gebeld en "
        "twee keer gemaild, en elke keer word ik doorverwezen naar een ander nummer. Niemand belt terug zoals beloofd. Ik ben 81 en "
        "kan het huis niet meer zelf schoonhouden. Zo ga je toch niet met mensen om?\n\nMet vriendelijke groet,\nRia Hendriks",
        {},
    ),
    (
        ("wethouder",),
        "Kees van Dam <kees.vandam@example.nl>",
        "Waarom gaat de OZB weer omhoog?",
        "Beste wethouder,\n\nIn de krant las ik dat de OZB volgend jaar weer met 6 procent stijgt. Kunt u uitleggen waarom de gemeente "
        "daarvoor kiest, terwijl de reserves volgens de jaarrekening ruim zijn? Ik zou graag weten welke alternatieven het college "
        "heeft overwogen.\n\nGroet,\nKees van Dam",
        {},
    ),
    (
        ("secretariaat",),
        "Parkeerbeheer Noord BV <info@parkeerbeheer-noord.example>",
        "Nieuwsbrief november: slim parkeren in uw gemeente",
        "Ontdek onze nieuwe sensoren voor betaald parkeren. Vraag vrijblijvend een demonstratie aan.\n\nAfmelden? Klik hier.",
        {"List-Unsubscribe": "<mailto:unsubscribe@parkeerbeheer-noord.example>", "Precedence": "bulk"},
    ),
    (
        ("raad",),
        "Ahmed Yilmaz <a.yilmaz@example.nl>",
        "Bezwaar tegen beschikking parkeervergunning",
        "Geacht college,\n\nHierbij maak ik bezwaar tegen de beschikking van 3 november waarin mijn aanvraag voor een "
        "bewonersparkeervergunning is afgewezen. Ik woon sinds 2019 op dit adres en heb geen eigen parkeerplaats. De gronden "
        "stuur ik binnen twee weken na.\n\nHoogachtend,\nA. Yilmaz",
        {},
    ),
    (
        ("wethouder",),
        "Secretariaat wethouder De Vries <secretariaat.devries@gemeente-veenstad.nl>",
        "Fw: lantaarnpaal",
        "Ter info.\n\n---------- Doorgestuurd bericht ----------\nVan: Piet Bakker <p.bakker@example.nl>\nDatum: ma 16 nov 2026\n"
        "Onderwerp: lantaarnpaal\n\nDe lantaarnpaal voor nummer 12 is nu al zes weken kapot. Ik heb hem drie keer gemeld via de app "
        "en er gebeurt helemaal niets. Mijn vrouw durft 's avonds niet meer over straat. Waarom reageert niemand?",
        {},
    ),
    (
        ("secretariaat",),
        "Marloes de Wit <m.dewit@example.nl>",
        "Dank!",
        "Beste mevrouw Jansen,\n\nDank voor het fijne gesprek van gisteren met uw medewerker over de mantelzorgwaardering. Wat "
        "een verschil met vorig jaar, ik voelde me echt gehoord.\n\nHartelijke groet,\nMarloes de Wit",
        {},
    ),
    (
        ("raad",),
        "Jan Peters <jan.peters@example.nl>",
        "Automatisch antwoord: Bijeenkomst windmolens",
        "Ik ben tot en met 30 november afwezig en lees mijn mail niet. Voor dringende zaken kunt u bellen met het secretariaat.",
        {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    ),
    (
        ("wethouder",),
        "Sophie Turner <sophie.turner@example.com>",
        "Rude treatment at the city office",
        "Dear Alderman,\n\nLast Tuesday I went to the city office to register my address. The employee at the desk laughed at my "
        "Dutch, refused to help me in English and sent me away without an appointment. I have now waited three weeks for a new "
        "appointment. This is not how newcomers should be treated.\n\nKind regards,\nSophie Turner",
        {},
    ),
    (
        ("secretariaat",),
        "Redactie Veenstad Dagblad <redactie@veenstaddagblad.example>",
        "Verzoek om reactie: sluiting zwembad",
        "Goedemiddag,\n\nVoor een artikel in de krant van morgen willen wij graag een reactie van de wethouder op de voorgenomen "
        "sluiting van zwembad De Vennen. Kunt u vóór 17.00 uur reageren?\n\nMet vriendelijke groet,\nRedactie Veenstad Dagblad",
        {},
    ),
    (
        ("raad",),
        "Wijkvereniging De Hoven <bestuur@dehoven.example>",
        "Inspreken commissie Ruimte over het bestemmingsplan",
        "Geachte griffie,\n\nNamens de wijkvereniging willen wij graag inspreken tijdens de commissievergadering Ruimte van 3 "
        "december over het bestemmingsplan Hovenpark. Wij maken ons zorgen over de verkeersdruk in de wijk.\n\nMet vriendelijke "
        "groet,\nBestuur Wijkvereniging De Hoven",
        {},
    ),
    # two messages the model is unsure about: they wait for a secretary in the review app
    (
        ("wethouder",),
        "Henk Smit <henk.smit@example.nl>",
        "Afvalinzameling",
        "Beste wethouder,\n\nMijn buurman zegt dat de afvalinzameling straks nog maar eens per maand is. Klopt dat? Ik vind dat "
        "eerlijk gezegd geen goed idee, het stinkt nu al in de zomer.\n\nGroet,\nHenk Smit",
        {},
    ),
    (
        ("wethouder",),
        "Tom de Boer <tom.deboer@example.nl>",
        "Wachten bij het loket",
        "Hallo,\n\nVorige week stond ik een uur in de rij bij het loket voor mijn paspoort. Is het mogelijk om voortaan online een "
        "afspraak te maken? Dat zou voor veel mensen prettig zijn.\n\nMvg,\nTom de Boer",
        {},
    ),
]


def build_samples(domain: str = "gemeente-veenstad.nl") -> list[tuple[tuple[str, ...], bytes, datetime]]:
    """The sample messages as raw bytes, with the mailboxes they land in and their receipt time."""
    start = datetime(2026, 11, 16, 7, 45, tzinfo=timezone.utc)
    out = []
    for i, (boxes, sender, subject, body, headers) in enumerate(SAMPLES):
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = ", ".join(f"{box}@{domain}" for box in boxes)
        msg["Subject"] = subject
        sent = start + timedelta(minutes=23 * i)
        msg["Date"] = format_datetime(sent)
        msg["Message-ID"] = f"<demo-{i + 1}@example.nl>"
        for key, value in headers.items():
            msg[key] = value
        msg.set_content(body)
        out.append((boxes, bytes(msg), sent + timedelta(seconds=40)))
    # one message that cannot be read as mail at all: it is kept and quarantined
    out.append((("secretariaat",), b"\x00\x01\x02 not a mail message \xff\xfe" * 20, start + timedelta(hours=5)))
    return out
