"""The coordinator's report: HTML with charts, CSV exports, and the e-mail that carries them.

Everything here is in Dutch and free of message content: findings name
messages by their internal number only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from klachtwacht.db.models import utcnow
from klachtwacht.notices.mailer import Mailer, OutgoingMail
from klachtwacht.reconcile.chart import LABEL_COLOURS, LABEL_NL, weekly_chart
from klachtwacht.reconcile.checks import ChannelVolume
from klachtwacht.reconcile.findings import KINDS, Report
from klachtwacht.reconcile.volume import explain

__all__ = ["render_html", "findings_csv", "volumes_csv", "ReportFiles", "write_report", "report_mail", "send_reports"]

SEVERITY_NL = {"critical": "ernstig", "warning": "aandacht", "info": "ter informatie"}
SEVERITY_TITLES = (("critical", "Ernstig"), ("warning", "Vraagt aandacht"), ("info", "Ter informatie"))
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")

_env = Environment(loader=PackageLoader("klachtwacht.reconcile", "templates"), autoescape=select_autoescape(["html", "jinja"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def date_nl(day: date) -> str:
    return "%d %s %d" % (day.day, MONTHS[day.month - 1], day.year)


def _volume_view(channel: ChannelVolume, weeks: int = 52) -> dict[str, Any]:
    labels = [label for label in LABEL_COLOURS if label in channel.by_label]
    offset = len(channel.weeks) - min(weeks, len(channel.weeks))
    rows = []
    alarms = {w.start for w in channel.verdict.alarm_weeks}
    for i in range(offset, len(channel.weeks)):
        week = channel.weeks[i].week
        state = channel.verdict.weeks[i]
        note = week.holiday_name or ("daling gesignaleerd" if week.start in alarms else "")
        rows.append({"week": week.label, "counts": [channel.by_label[label][i] for label in labels],
                     "expected": "" if state.expected is None else "%.1f" % state.expected, "note": note})
    return {"mailbox": channel.mailbox, "svg": weekly_chart(channel, weeks), "explanation": explain(channel.verdict, channel.mailbox),
            "label_names": [LABEL_NL[label] for label in labels], "rows": rows}


def render_html(report: Report, volumes: Sequence[ChannelVolume], organisation: str, generated: datetime | None = None) -> str:
    findings = [dict(f.to_dict(), heading=KINDS[f.kind], severity_nl=SEVERITY_NL[f.severity]) for f in report.findings]
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in ("critical", "warning", "info")}
    return _env.get_template("report.html.jinja").render(
        date_nl=date_nl(report.date), organisation=organisation, clean=report.clean, counts=counts, findings=findings,
        severities=SEVERITY_TITLES, volumes=[_volume_view(v) for v in volumes],
        legend=[(label, colour, LABEL_NL[label]) for label, colour in LABEL_COLOURS.items()],
        generated=(generated or utcnow()).strftime("%d-%m-%Y %H:%M UTC"),
    )


def findings_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["datum", "soort", "ernst", "mailbox", "berichten", "hersteld", "toelichting"])
    for f in report.findings:
        writer.writerow([report.date.isoformat(), f.kind, f.severity, f.mailbox or "", " ".join(map(str, f.messages)),
                         "ja" if f.repaired else "nee", f.detail])
    return out.getvalue()


def volumes_csv(volumes: Sequence[ChannelVolume]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["mailbox", "week", "maandag", "werkdagen", "vakantie", "label", "aantal", "verwacht", "cusum", "drempel", "daling"])
    for channel in volumes:
        for i, item in enumerate(channel.weeks):
            state = channel.verdict.weeks[i]
            for label, counts in sorted(channel.by_label.items()):
                writer.writerow([channel.mailbox, item.week.label, item.week.start.isoformat(), item.week.working_days,
                                 item.week.holiday_name or "", label, counts[i],
                                 "" if state.expected is None else "%.2f" % state.expected, "%.2f" % state.cusum,
                                 "" if state.threshold is None else "%.2f" % state.threshold, "ja" if state.alarm else "nee"])
    return out.getvalue()


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    findings_csv: Path
    volumes_csv: Path


def write_report(report: Report, volumes: Sequence[ChannelVolume], folder: Path, organisation: str) -> ReportFiles:
    """Write ``controle-YYYY-MM-DD.html`` and the two CSV files into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = "controle-%s" % report.date.isoformat()
    files = ReportFiles(folder / f"{stem}.html", folder / f"{stem}-bevindingen.csv", folder / f"{stem}-volumes.csv")
    files.html.write_text(render_html(report, volumes, organisation), encoding="utf-8")
    files.findings_csv.write_text(findings_csv(report), encoding="utf-8-sig")  # with BOM: Excel reads it as UTF-8
    files.volumes_csv.write_text(volumes_csv(volumes), encoding="utf-8-sig")
    return files


def report_mail(report: Report, files: ReportFiles, to: str, domain: str) -> OutgoingMail:
    """The coordinator's e-mail: a short Dutch summary with the report attached."""
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in ("critical", "warning", "info")}
    if report.clean:
        subject = "klachtwacht: alles in orde (%s)" % date_nl(report.date)
        lines = ["De nachtelijke controle van %s vond niets bijzonders:" % date_nl(report.date),
                 "elk bericht is verantwoord, elke klacht geregistreerd en elk kanaal werkt."]
    else:
        subject = "klachtwacht: %d ernstige en %d andere bevindingen (%s)" % (counts["critical"], counts["warning"], date_nl(report.date))
        lines = ["De nachtelijke controle van %s vond het volgende:" % date_nl(report.date), ""]
        for f in sorted(report.findings, key=lambda f: ("critical", "warning", "info").index(f.severity)):
            if f.severity != "info":
                lines.append("- [%s] %s: %s" % (SEVERITY_NL[f.severity], KINDS[f.kind], f.detail))
    lines += ["", "Het volledige rapport met de grafieken per mailbox zit als bijlage bij dit bericht.", "", "klachtwacht"]
    attachments = (
        (files.html.name, "text", "html", files.html.read_bytes()),
        (files.findings_csv.name, "text", "csv", files.findings_csv.read_bytes()),
    )
    return OutgoingMail(to=to, subject=subject, text="\n".join(lines), message_id="<reconcile-%s-%s@%s>" % (report.date.isoformat(), to.split("@")[0], domain),
                        attachments=attachments, sender_name="klachtwacht")


def send_reports(mailer: Mailer, report: Report, files: ReportFiles, coordinators: Sequence[str], domain: str, daily_ok: bool) -> int:
    """Mail the report to each coordinator when there are findings (or every night with ``daily_ok``); return how many."""
    if report.clean and not daily_ok:
        return 0
    for to in coordinators:
        mailer.send(report_mail(report, files, to, domain))
    return len(coordinators)
