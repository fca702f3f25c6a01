"""Sub-commands contributed by the classifier and the register."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the further sub-commands to the ``klachtwacht`` parser."""
    from classifiers import cli as classifier_cli

    classifier_cli.register(sub)
    reg = sub.add_parser("register", help="the central complaints register")
    reg_sub = reg.add_subparsers(dest="register_command", required=True)
    listing = reg_sub.add_parser("list", help="one line (or JSON object) per register entry")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_register_list)


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
