"""The demo's history: the wethouder's mail of the months before klachtwacht, and the register export to audit it against.

Every name and address is fictional. The mail is received before the
demo's start date, so it is kept as history (classified, never registered or
answered); the audit then finds which of its complaints the municipality's
own register holds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

__all__ = ["HISTORY", "AUDIT_SINCE", "build_history", "write_register_export", "audit_summary"]

#: The audit looks back from here.
AUDIT_SINCE = date(2026, 1, 1)

# (received, sender, subject, body, in the municipality's register as)
HISTORY: list[tuple[datetime, str, str, str, str | None]] = [
    (
        datetime(2026, 3, 3, 9, 12, tzinfo=timezone.utc), "Henk de Boer <henk.deboer@example.nl>", "Klacht over de behandeling aan de balie",
        "Geachte wethouder,\n\nGisteren werd ik aan de balie van het stadhuis onbeschoft behandeld. De medewerker luisterde niet, "
        "lachte mij uit en stuurde mij zonder hulp weg. Ik ben hier zeer ontevreden over en wil hierover een klacht indienen.\n\n"
        "Met vriendelijke groet,\nHenk de Boer", "Z-2026-0311",
    ),
    (
        datetime(2026, 5, 19, 14, 40, tzinfo=timezone.utc), "Fatima El Amrani <f.elamrani@example.nl>", "Al twee maanden geen antwoord op mijn aanvraag",
        "Beste wethouder,\n\nIn maart heb ik bijzondere bijstand aangevraagd. Ik heb sindsdien drie keer gebeld en niemand belt "
        "terug zoals beloofd. Ik word steeds van het kastje naar de muur gestuurd. Dit is toch geen manier om met mensen om te "
        "gaan? Ik dien hierbij een klacht in.\n\nFatima El Amrani", None,
    ),
    (
        datetime(2026, 7, 8, 8, 5, tzinfo=timezone.utc), "Gerrit Smit <g.smit@example.nl>", "Waarom wordt het zwembad gesloten?",
        "Geachte wethouder,\n\nKunt u uitleggen waarom het college overweegt zwembad De Vennen te sluiten? Welke alternatieven zijn "
        "onderzocht?\n\nGroet,\nGerrit Smit", None,
    ),
    (
        datetime(2026, 9, 22, 19, 30, tzinfo=timezone.utc), "Anja Visser <anja.visser@example.nl>", "Klacht: medewerker wijkteam kwam afspraak niet na",
        "Geachte heer De Vries,\n\nDe medewerker van het wijkteam zou vorige week langskomen voor de keukentafelgesprek, maar "
        "kwam niet en liet niets horen. Dit is de tweede keer. Ik voel me niet serieus genomen en ben hier erg boos over. Ik wil "
        "een klacht indienen over deze behandeling.\n\nAnja Visser", None,
    ),
]


def build_history(domain: str = "gemeente-veenstad.nl") -> list[tuple[bytes, datetime]]:
    """The history mail as raw bytes with its receipt time (all for the wethouder)."""
    out = []
    for i, (received, sender, subject, body, _) in enumerate(HISTORY):
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = f"wethouder@{domain}"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(received - timedelta(minutes=2))
        msg["Message-ID"] = f"<demo-history-{i + 1}@example.nl>"
        msg.set_content(body)
        out.append((bytes(msg), received))
    return out


def write_register_export(path: Path) -> Path:
    """The municipality's own register as its CSV export (semicolons, Windows-1252, Dutch dates)."""
    lines = ["Zaaknummer;Datum ontvangst;Indiener;Omschrijving"]
    for received, sender, subject, _, number in HISTORY:
        if number is not None:
            day = received.date() + timedelta(days=2)
            name = sender.split("<")[0].strip()
            lines.append(f"{number};{day.day}-{day.month}-{day.year};{name};{subject.lower()}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def audit_summary(app: Any, folder: Path) -> str:
    """The audit of the wethouder's history against the register export, in Dutch (no addresses), with the report files."""
    from klachtwacht.golive.audit import audit, load_complaints
    from klachtwacht.golive.auditreport import write_audit
    from klachtwacht.golive.export import parse_columns, read_export
    from rules.golive import dutch_date

    export = write_register_export(folder / "register-export.csv")
    rows = read_export(export, parse_columns("date=Datum ontvangst,sender=Indiener,subject=Omschrijving,number=Zaaknummer"))
    with app.sessions() as session:
        messages = load_complaints(session, AUDIT_SINCE)
    result = audit(messages, AUDIT_SINCE, rows, export.name)
    files = write_audit(result, folder / "rapporten", "Gemeente Veenstad")
    history = sum(1 for m in result.messages if m.state == "history")
    lines = [
        f"Terugblik (klachtwacht audit --since {AUDIT_SINCE.isoformat()}): de post sinds {dutch_date(AUDIT_SINCE, year=True)}, "
        f"vergeleken met het klachtenregister van de gemeente ({export.name}); er is niemand iets gestuurd.",
        f"  {history} berichten van vóór de start van klachtwacht zijn bewaard als geschiedenis: geclassificeerd, niet geregistreerd of beantwoord.",
        f"  {len(result.complaints)} klachten in de mailboxen: {len(result.matched)} geregistreerd, {len(result.missing)} niet.",
    ]
    for m in result.missing:
        lines.append(f"  - niet geregistreerd: {dutch_date(m.received, year=True)}, {', '.join(m.mailboxes)}: {m.subject}")
    for m, reference, _ in result.matched:
        lines.append(f"  - geregistreerd als {reference}: {dutch_date(m.received, year=True)}, {m.subject}")
    lines.append(f"  rapport: {files.html}")
    return "\n".join(lines)
