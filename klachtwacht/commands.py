"""Sub-commands contributed by the classifier, the register and the review domain."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the further sub-commands to the ``klachtwacht`` parser."""
    from classifiers import cli as classifier_cli
    from klachtwacht.annual import command as annual_command
    from klachtwacht.golive import command as golive_command
    from klachtwacht.reconcile import command as reconcile_command
    from klachtwacht.web import command as web_command

    classifier_cli.register(sub)
    web_command.register(sub)
    reconcile_command.register(sub)
    annual_command.register(sub)
    golive_command.register(sub)
    register_reviews(sub)
    reg = sub.add_parser("register", help="the central complaints register")
    reg_sub = reg.add_subparsers(dest="register_command", required=True)
    listing = reg_sub.add_parser("list", help="one line (or JSON object) per register entry")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_register_list)
    extend = reg_sub.add_parser("extend", help="record the one extension of Awb 9:11 lid 2 (at most four weeks)")
    extend.add_argument("number", help="register number, e.g. KL-2026-000123")
    extend.add_argument("--json", action="store_true")
    extend.set_defaults(handler=cmd_register_extend)


def cmd_register_list(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database
    from klachtwacht.queries import list_register

    with database(args) as sessions:
        rows = list_register(sessions)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            sent = "bevestiging verstuurd" if row["notice_sent"] else f"geen bevestiging ({row['notice'] or 'nog niet'})"
            print(f"{row['number']}  ontvangen {row['received_at'][:10]}  uiterlijk {row['due']}  {', '.join(row['mailboxes'])}  {sent}")
    return 0


def cmd_register_extend(args: argparse.Namespace) -> int:
    """Set the extended due date (receipt + 10 weeks, rolled forward) once; a second extension is refused."""
    from sqlalchemy import select

    from klachtwacht.cli import database
    from klachtwacht.db.models import RegisterEntry
    from rules.deadlines import complaint_terms

    with database(args) as sessions, sessions.begin() as session:
        entry = session.scalar(select(RegisterEntry).where(RegisterEntry.number == args.number))
        if entry is None:
            print(f"klachtwacht: no register entry {args.number}", file=sys.stderr)
            return 2
        if entry.extended_due is not None:
            print(f"klachtwacht: {args.number} was already extended to {entry.extended_due}; a further delay needs the complainant's written consent (Awb 9:11 lid 2)", file=sys.stderr)
            return 1
        entry.extended_due = complaint_terms(entry.received_at).extended_due
        result = {"number": entry.number, "due": entry.due.isoformat(), "extended_due": entry.extended_due.isoformat()}
    print(json.dumps(result) if args.json else f"{result['number']}: verdaagd tot {result['extended_due']} (was {result['due']})")
    return 0


def register_reviews(sub: Any) -> None:
    """``klachtwacht reviews``: people's decisions as training records, and the weekly steekproef."""
    reviews = sub.add_parser("reviews", help="people's decisions: export for training, the steekproef, measured quality")
    reviews_sub = reviews.add_subparsers(dest="reviews_command", required=True)
    export = reviews_sub.add_parser("export", help="write reviewed and sampled decisions as corpus records (the municipality's own mail: keep the file safe)")
    export.add_argument("file", type=Path, help="a .txt file (one writer, its stem), or a folder: one reviews-<organisation>.txt per organisation")
    export.add_argument("--organisation", default=None, help="only this organisation's messages")
    export.set_defaults(handler=cmd_reviews_export)
    draw = reviews_sub.add_parser("steekproef", help="draw this week's (or --week's) sample of automatic decisions for every organisation")
    draw.add_argument("--week", default=None, help="ISO week, e.g. 2026-W10 (default: the current week)")
    draw.add_argument("--seed", type=int, default=0)
    draw.add_argument("--json", action="store_true")
    draw.set_defaults(handler=cmd_reviews_steekproef)


def cmd_reviews_export(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database, load_command_config
    from klachtwacht.review.export import export

    config = load_command_config(args, secrets=False)
    with database(args) as sessions:
        written = export(sessions, config, args.file, organisation=args.organisation)
    for path, count in sorted(written.items()):
        print(f"{count} records written to {path} (writer {path.stem})")
    if not written:
        print("no decisions by people yet: nothing written")
    return 0


def cmd_reviews_steekproef(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database, load_command_config
    from klachtwacht.db.models import utcnow
    from klachtwacht.review.steekproef import draw, iso_week

    config = load_command_config(args, secrets=False)
    week = args.week or iso_week(utcnow())
    organisations = [o.name for o in config.organisations] or ["default"]
    drawn: dict[str, int] = {}
    with database(args) as sessions:
        for name in organisations:
            drawn[name] = len(draw(sessions, config=config, organisation=name, week=week, seed=args.seed))
    if args.json:
        print(json.dumps({"week": week, "drawn": drawn}))
    else:
        for name, count in drawn.items():
            print(f"{name}: {count} automatische besluiten getrokken voor de steekproef van {week}")
    return 0
