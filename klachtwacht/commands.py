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
    from klachtwacht.reconcile import command as reconcile_command

    classifier_cli.register(sub)
    reconcile_command.register(sub)
    annual_command.register(sub)
    reg = sub.add_parser("register", help="the central complaints register")
    reg_sub = reg.add_subparsers(dest="register_command", required=True)
    listing = reg_sub.add_parser("list", help="one line (or JSON object) per register entry")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_register_list)
    extend = reg_sub.add_parser("extend", help="extend a complaint's term (Awb 9:11 lid 2) and send the complainant the letter that says so")
    extend.add_argument("number", help="register number, e.g. KL-2026-000123")
    extend.add_argument("--weeks", type=int, default=4, help="how many weeks (at most 4 without consent; default 4)")
    extend.add_argument("--reason", required=True, help="why, in Dutch: it is quoted in the letter to the complainant")
    extend.add_argument("--with-consent", action="store_true",
                        help="the complainant agreed in writing to a further (or longer) delay (Awb 9:11 lid 2)")
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
    """Record the extension and send its letter; the same extension asked for again sends nothing twice.

    Exit status: 0 extended and the complainant told (or already told), 1
    refused by the law, or the letter not sent (run the command again to
    send it; without a usable address it must be sent by hand), 2 no such
    entry.
    """
    from klachtwacht.cli import _upgrade, load_command_config
    from klachtwacht.db import make_engine, make_sessionmaker
    from klachtwacht.errors import KlachtwachtError
    from klachtwacht.register.extension import ExtensionRefused, extend_entry

    config = load_command_config(args, secrets=False)  # the SMTP password is read when the letter is sent
    _upgrade(config.database.url)
    engine = make_engine(config.database.url)
    try:
        done = extend_entry(make_sessionmaker(engine), config, args.number, args.weeks, args.reason, consent=args.with_consent)
    except ExtensionRefused as exc:
        print(f"klachtwacht: {args.number}: {exc}", file=sys.stderr)
        return 1
    except KlachtwachtError as exc:
        if str(exc).startswith("no register entry"):
            print(f"klachtwacht: {exc}", file=sys.stderr)
            return 2
        raise
    finally:
        engine.dispose()
    ext = done.extension
    letter = {"done": "brief aan de klager verstuurd", "skipped": f"geen brief verstuurd ({done.letter_detail})",
              "rejected": f"brief geweigerd door de mailserver ({done.letter_detail})"}.get(
                  done.letter, f"brief nog niet verstuurd ({done.letter_detail}); voer de opdracht opnieuw uit")
    result = {"number": done.number, "due": done.due.isoformat(), "extended_due": ext.extended_due.isoformat(),
              "previous_due": ext.previous_due.isoformat(), "extension": ext.ordinal, "with_consent": ext.consent,
              "new": done.new, "letter": done.letter}
    if args.json:
        print(json.dumps(result))
    else:
        again = "" if done.new else " (deze verdaging was al vastgelegd)"
        print(f"{done.number}: verdaagd tot {result['extended_due']} (was {result['previous_due']}){again}; {letter}")
    return 0 if done.letter == "done" else 1
