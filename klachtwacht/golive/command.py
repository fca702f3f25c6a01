"""``klachtwacht pilot report`` and ``klachtwacht audit``: the going-live commands. Both only read; nothing is sent.

Exit status of ``audit``: 0 every complaint is in the register, 1 some are
not, 2 it could not run (a bad date, an unknown mailbox, an export it cannot
read: one line naming the file, the line and the column).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from klachtwacht.errors import UsageError

__all__ = ["register", "cmd_pilot_report", "cmd_audit", "past_day"]


def past_day(value: str) -> date:
    """A ``--since`` date: ISO or day first (2-3-2026), not in the future."""
    from klachtwacht.golive.export import parse_day

    day = parse_day(value)
    if day is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use 2026-03-02 or 2-3-2026)")
    if day > datetime.now(timezone.utc).date():
        raise argparse.ArgumentTypeError(f"{day.isoformat()} is in the future")
    return day


def register(sub: Any) -> None:
    pilot = sub.add_parser("pilot", help="the shadow pilot")
    pilot_sub = pilot.add_subparsers(dest="pilot_command", required=True)
    report = pilot_sub.add_parser("report", help="what shadow mode would have done, and the measured quality where people graded it")
    report.add_argument("--json", action="store_true", help="one JSON object")
    report.add_argument("--since", type=past_day, help="only messages received on or after this date")
    report.set_defaults(handler=cmd_pilot_report)

    audit = sub.add_parser("audit", help="complaints in the mailboxes since a date that are not in the register; sends nothing")
    audit.add_argument("--since", type=past_day, required=True, help="from this date of receipt (YYYY-MM-DD)")
    audit.add_argument("--mailbox", action="extend", nargs="+", default=[], help="only these mailboxes (names; may be repeated)")
    audit.add_argument("--register-export", help="a CSV export of the municipality's register (instead of klachtwacht's own)")
    audit.add_argument("--columns", help="the export's columns, e.g. date=Datum,sender=Afzender,subject=Onderwerp[,number=Nummer]")
    audit.add_argument("--window-days", type=int, default=14, help="registration may follow receipt by this many days (default 14)")
    audit.add_argument("--fetch", action="store_true", help="also read mail klachtwacht never stored from the servers (read-only, not stored)")
    audit.add_argument("--report-dir", help="folder for the HTML and CSV report (default: [reconcile] report_dir)")
    audit.add_argument("--json", action="store_true", help="one JSON object")
    audit.set_defaults(handler=cmd_audit)


def cmd_pilot_report(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database
    from klachtwacht.golive.pilot import as_json, as_text, load_pilot

    with database(args) as sessions, sessions() as session:
        report = load_pilot(session, args.since)
    if args.json:
        print(json.dumps(as_json(report), ensure_ascii=False))
    else:
        sys.stdout.write(as_text(report))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database, load_command_config
    from klachtwacht.golive.audit import audit, fetch_unstored, load_complaints
    from klachtwacht.golive.auditreport import as_json, as_text, write_audit
    from klachtwacht.golive.export import parse_columns, read_export

    config = load_command_config(args, secrets=args.fetch)
    known = [m.name for m in config.mailboxes]
    for name in args.mailbox:
        if name not in known:
            raise UsageError(f"--mailbox: no mailbox {name!r} in {config.path} (known: {', '.join(known) or 'none'})")
    if args.window_days < 0:
        raise UsageError("--window-days: must be 0 or more")
    export = None
    if args.register_export:  # read and checked first: a broken export stops the audit before anything else
        export = read_export(args.register_export, parse_columns(args.columns))
    elif args.columns:
        raise UsageError("--columns: only with --register-export")
    classifier: Any = None

    def classify(parsed: Any) -> Any:
        nonlocal classifier
        if classifier is None:
            from classifiers.classifier import Classifier

            classifier = Classifier.load(config.classifier.model)
        return classifier.classify_parsed(parsed)

    with database(args) as sessions, sessions() as session:
        messages = load_complaints(session, args.since, args.mailbox, classify)
        unread: list[str] = []
        if args.fetch:
            more, unread = fetch_unstored(config, args.since, args.mailbox, session, classify)
            messages += more
    source = Path(args.register_export).name if args.register_export else ""
    result = audit(messages, args.since, export, source, window_days=args.window_days)
    result.unread = unread
    folder = Path(args.report_dir or config.reconcile.report_dir)
    if not folder.is_absolute():
        folder = Path(config.path).resolve().parent / folder if not args.report_dir else folder.resolve()
    organisation = config.organisations[0].display_name if config.organisations else "de gemeente"
    files = write_audit(result, folder, organisation)
    if args.json:
        print(json.dumps({**as_json(result), "files": {"html": str(files.html), "csv": str(files.csv)}}, ensure_ascii=False))
    else:
        sys.stdout.write(as_text(result))
        print(f"Rapport: {files.html} en {files.csv}")
    return 1 if result.missing else 0
