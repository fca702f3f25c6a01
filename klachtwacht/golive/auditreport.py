"""The audit's report for the coordinator, in Dutch: text for the terminal, JSON, and HTML plus CSV files.

The text on the terminal names messages by date, mailbox, subject and
internal number; the files, meant for the coordinator who registers what is
missing, carry the sender's address too.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from klachtwacht.db.models import utcnow
from klachtwacht.golive.audit import AuditMessage, AuditResult, month_counts
from rules.golive import dutch_date

__all__ = ["as_text", "as_json", "audit_csv", "render_html", "AuditFiles", "write_audit"]

_env = Environment(loader=PackageLoader("klachtwacht.golive", "templates"), autoescape=select_autoescape(["html", "jinja"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _sender(m: AuditMessage) -> str:
    if m.sender_name and m.sender_address:
        return f"{m.sender_name} <{m.sender_address}>"
    return m.sender_address or m.sender_name or "-"


def as_text(result: AuditResult) -> str:
    lines = [f"Terugblik vanaf {dutch_date(result.since, year=True)}, vergeleken met {result.source}. Er is niemand iets gestuurd.",
             f"{len(result.messages)} berichten, waarvan {len(result.complaints)} klachten: {len(result.matched)} in het register, "
             f"{len(result.missing)} niet in het register."]
    for place in result.unread:
        lines.append(f"Niet gelezen: {place}")
    if result.missing:
        lines += ["", "Niet in het register:"]
        for m in result.missing:
            lines.append(f"  {m.received.isoformat()}  {', '.join(m.mailboxes)}  bericht {m.key}  {m.subject}")
    if result.matched:
        lines += ["", "Waarschijnlijk geregistreerd:"]
        for m, reference, evidence in result.matched:
            lines.append(f"  {m.received.isoformat()}  {', '.join(m.mailboxes)}  bericht {m.key}  -> {reference}: {'; '.join(evidence)}")
    lines += ["", "Per maand (berichten / klachten / in het register / niet in het register):"]
    for month, messages, complaints, matched, missing in month_counts(result):
        lines.append(f"  {month}: {messages} / {complaints} / {matched} / {missing}")
    return "\n".join(lines) + "\n"


def _message_json(m: AuditMessage) -> dict[str, Any]:
    return {"id": m.key, "received": m.received.isoformat(), "mailboxes": list(m.mailboxes), "subject": m.subject,
            "label": m.label, "confidence": None if m.confidence is None else round(m.confidence, 4), "state": m.state}


def as_json(result: AuditResult) -> dict[str, Any]:
    return {
        "since": result.since.isoformat(), "source": result.source, "messages": len(result.messages), "complaints": len(result.complaints),
        "missing": [_message_json(m) for m in result.missing],
        "matched": [{**_message_json(m), "register": reference, "evidence": list(evidence)} for m, reference, evidence in result.matched],
        "months": [{"month": mo, "messages": a, "complaints": b, "registered": c, "missing": d} for mo, a, b, c, d in month_counts(result)],
        "unread": result.unread,
    }


def audit_csv(result: AuditResult) -> str:
    """One row per complaint: in the register or not, with the evidence."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["ontvangen", "mailbox", "afzender", "onderwerp", "zekerheid", "bericht", "in register", "registratie", "aanwijzingen"])
    for m in result.missing:
        writer.writerow([m.received.isoformat(), " ".join(m.mailboxes), _sender(m), m.subject, _confidence(m), m.key, "nee", "", ""])
    for m, reference, evidence in result.matched:
        writer.writerow([m.received.isoformat(), " ".join(m.mailboxes), _sender(m), m.subject, _confidence(m), m.key, "ja", reference, "; ".join(evidence)])
    return out.getvalue()


def _confidence(m: AuditMessage) -> str:
    return "" if m.confidence is None else f"{m.confidence:.0%}"


def render_html(result: AuditResult, organisation: str, generated: datetime | None = None) -> str:
    def row(m: AuditMessage) -> dict[str, Any]:
        return {"received": dutch_date(m.received, year=True), "mailboxes": ", ".join(m.mailboxes), "sender": _sender(m),
                "subject": m.subject, "confidence": _confidence(m), "key": m.key}

    return _env.get_template("audit.html.jinja").render(
        since_nl=dutch_date(result.since, year=True), organisation=organisation, source=result.source, complaints=len(result.complaints),
        missing=[row(m) for m in result.missing], unread=result.unread,
        matched=[{**row(m), "reference": reference, "evidence": "; ".join(evidence)} for m, reference, evidence in result.matched],
        months=month_counts(result), generated=(generated or utcnow()).strftime("%d-%m-%Y %H:%M UTC"),
    )


@dataclass(frozen=True)
class AuditFiles:
    html: Path
    csv: Path


def write_audit(result: AuditResult, folder: Path, organisation: str) -> AuditFiles:
    """Write ``terugblik-vanaf-YYYY-MM-DD.html`` and ``.csv`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"terugblik-vanaf-{result.since.isoformat()}"
    files = AuditFiles(folder / f"{stem}.html", folder / f"{stem}.csv")
    files.html.write_text(render_html(result, organisation), encoding="utf-8")
    files.csv.write_text(audit_csv(result), encoding="utf-8-sig")  # with BOM: Excel reads it as UTF-8
    return files
