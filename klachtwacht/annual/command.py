"""``klachtwacht report annual --year Y [--format html|csv|json] [--output FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "cmd_report_annual"]


def register(sub: Any) -> None:
    report = sub.add_parser("report", help="reports for the coordinator")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    annual = report_sub.add_parser("annual", help="the Awb 9:12a overview of a year's complaints (aggregates only)")
    annual.add_argument("--year", type=int, required=True)
    annual.add_argument("--format", choices=("html", "csv", "json"), default="html")
    annual.add_argument("--output", help="write to this file instead of standard output")
    annual.set_defaults(handler=cmd_report_annual)


def cmd_report_annual(args: argparse.Namespace) -> int:
    from klachtwacht.annual.figures import annual_figures
    from klachtwacht.annual.load import load_year
    from klachtwacht.annual.render import to_csv, to_html, to_json
    from klachtwacht.cli import database, load_command_config
    from klachtwacht.db.models import utcnow
    from rules.deadlines import local_date

    config = load_command_config(args, secrets=False)
    with database(args) as sessions, sessions() as session:
        rows, policy = load_year(session, config, args.year)
    figures = annual_figures(args.year, rows, policy, local_date(utcnow()))
    organisation = config.organisations[0].display_name if config.organisations else "De gemeente"
    text = {"html": lambda: to_html(figures, organisation), "csv": lambda: to_csv(figures), "json": lambda: to_json(figures)}[args.format]()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
