"""Sub-commands contributed by the classifier and the register."""

from __future__ import annotations

import argparse
import json
import sys
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
