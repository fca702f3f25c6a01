"""``klachtwacht serve`` and ``klachtwacht users add|list|disable``."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

__all__ = ["register", "serve_app"]


def register(sub: Any) -> None:
    """Add ``serve`` and ``users`` to the ``klachtwacht`` parser."""
    serve = sub.add_parser("serve", help="the review web app")
    serve.add_argument("--host", help="address to listen on (default [web] host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default [web] port, 8000)")
    serve.set_defaults(handler=cmd_serve)

    users = sub.add_parser("users", help="accounts of the review web app")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a local account; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("secretaris", "coordinator", "beheerder"))
    add.add_argument("--organisation", help="the organisation of a coordinator (default: the only one)")
    add.add_argument("--mailbox", action="append", default=[], help="a mailbox a secretaris reviews (repeat for more)")
    add.add_argument("--display-name", help="the name shown in the app")
    add.set_defaults(handler=cmd_users_add)
    listing = users_sub.add_parser("list", help="one line (or JSON object) per account")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_users_list)
    disable = users_sub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("name")
    disable.set_defaults(handler=cmd_users_disable)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            from klachtwacht.errors import UsageError

            raise UsageError("the two passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_add(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database, load_command_config
    from klachtwacht.web.accounts import add_user
    from klachtwacht.web.passwords import make_hasher

    config = load_command_config(args, secrets=False)
    password = _read_password()
    with database(args) as sessions:
        add_user(sessions, config, make_hasher(), args.name, password, role=args.role, organisation=args.organisation,
                 mailboxes=tuple(args.mailbox), display_name=args.display_name)
    print(f"user {args.name} added ({args.role}{': ' + ', '.join(args.mailbox) if args.mailbox else ''})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database
    from klachtwacht.web.accounts import list_users

    with database(args) as sessions:
        rows = list_users(sessions)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            status = "disabled" if row["disabled"] else "locked" if row["locked"] else "active"
            boxes = row["mailboxes"]
            print(f"{row['name']:20} {row['role']:12} {row['organisation'] or '-':14} {status:9} {', '.join(boxes) if isinstance(boxes, list) else ''}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from klachtwacht.cli import database
    from klachtwacht.web.accounts import disable_user

    with database(args) as sessions:
        disable_user(sessions, args.name)
    print(f"user {args.name} disabled; its sessions are ended")
    return 0


def serve_app(app: Any) -> Any:
    """The web app on a running :class:`klachtwacht.runtime.App`: decisions go to the broker, or to a thread here with ``memory://``."""
    from klachtwacht.web.app import create_app

    kick = None
    if not app.config.broker.url.startswith("memory://"):
        def kick(pk: int) -> None:
            app.enqueue([pk])
    return create_app(app.config, app.sessions, app.services, kick=kick)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from klachtwacht.cli import build_app, load_command_config

    config = load_command_config(args)
    host = args.host or config.web.host
    port = args.port or config.web.port
    app = build_app(config)
    try:
        web = serve_app(app)
        print(f"klachtwacht: the review app listens on http://{host}:{port}/", flush=True)
        uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)
    finally:
        app.close()
    return 0
