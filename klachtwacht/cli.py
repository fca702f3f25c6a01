"""The ``klachtwacht`` command.

Exit status: 0 success, 1 findings or partial failure, 2 could not run
(a configuration error names the file, the key and the problem).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from klachtwacht.config import Config, default_config_path, load_config
from klachtwacht.errors import ConfigError, KlachtwachtError

__all__ = ["main"]

log = logging.getLogger("klachtwacht")

Handler = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config or default_config_path())


def _app(args: argparse.Namespace) -> Any:
    from klachtwacht.runtime import App
    from klachtwacht.wiring import build_services

    config = _config(args)
    app = App(config, build_services(config))
    app.upgrade_schema()
    return app


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Any]:
    """A session factory on the configured database, schema brought up to date."""
    from klachtwacht.db import make_engine, make_sessionmaker, upgrade

    config = _config(args)
    engine = make_engine(config.database.url)
    try:
        upgrade(engine)
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _print_json_lines(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    with database(args) as sessions:
        url = sessions.kw["bind"].url.render_as_string(hide_password=True)
    print(f"database {url} is up to date")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from klachtwacht.runtime import run_ingest_once, run_service

    app = _app(args)
    try:
        if not args.once:
            return run_service(app, parts=("watch", "worker", "schedule"))
        summary = run_ingest_once(app, threads=args.threads, processes=args.processes)
    finally:
        app.close()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary)
    failed = any(m["errors"] for m in summary["mailboxes"]) or summary["not_final"]
    return 1 if failed else 0


def _print_summary(summary: dict[str, Any]) -> None:
    for mailbox in summary["mailboxes"]:
        line = f"{mailbox['name']}: {mailbox['fetched']} fetched, {mailbox['new']} new here, {mailbox.get('seen_again', 0)} seen again"
        if mailbox["errors"]:
            line += "; ERRORS: " + "; ".join(mailbox["errors"])
        print(line)
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary["states"].items()))
    print(f"{summary['new_messages']} new messages; states now: {states or 'none'}")
    if summary["not_final"]:
        print(f"{summary['not_final']} messages did not reach a final state in time (they are kept and retried)")


def cmd_messages_list(args: argparse.Namespace) -> int:
    from klachtwacht.queries import list_messages

    with database(args) as sessions:
        rows = list_messages(sessions, state=args.state)
    if args.json:
        _print_json_lines(rows)
    else:
        for row in rows:
            print(f"{row['state']:12} {row['label'] or '-':13} {', '.join(row['mailboxes']):30} {row['message_id'] or '(geen Message-ID)'}")
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    from klachtwacht.runtime import run_service

    parts = {"run": ("watch", "worker", "schedule"), "worker": ("worker",), "watch": ("watch",), "schedule": ("schedule",)}[args.command]
    app = _app(args)
    try:
        return run_service(app, parts=parts, threads=args.threads, processes=getattr(args, "processes", 1))
    finally:
        app.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from klachtwacht.demo import run_demo

    return run_demo(serve=not args.no_serve, keep=args.keep)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klachtwacht", description="Recognise, register and acknowledge complaints in bestuurders' mailboxes.")
    parser.add_argument("--config", help="configuration file (default klachtwacht.toml or $KLACHTWACHT_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or migrate the schema").set_defaults(handler=cmd_db_upgrade)

    ingest = sub.add_parser("ingest", help="fetch and process mail")
    ingest.add_argument("--once", action="store_true", help="one pass over every mailbox, then stop")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.add_argument("--threads", type=int, default=2, help="worker threads in this process")
    ingest.add_argument("--processes", type=int, default=1, help="worker processes in all (more than 1 needs Redis or RabbitMQ)")
    ingest.set_defaults(handler=cmd_ingest)

    messages = sub.add_parser("messages", help="stored messages")
    messages_sub = messages.add_subparsers(dest="messages_command", required=True)
    listing = messages_sub.add_parser("list", help="one line (or JSON object) per message")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--state", help="only messages in this state")
    listing.set_defaults(handler=cmd_messages_list)

    for name, text in (("run", "everything in one process"), ("worker", "process queued work"), ("watch", "watch the mailboxes (IDLE and polling)"), ("schedule", "periodic jobs: sweeper")):
        part = sub.add_parser(name, help=text)
        part.add_argument("--threads", type=int, default=4)
        if name == "worker":
            part.add_argument("--processes", type=int, default=1, help="worker processes in all (more than 1 needs Redis or RabbitMQ)")
        part.set_defaults(handler=cmd_service)

    demo = sub.add_parser("demo", help="end-to-end demo on a throwaway mail server")
    demo.add_argument("--no-serve", action="store_true", help="stop after the summary")
    demo.add_argument("--keep", action="store_true", help="keep the temporary folder")
    demo.set_defaults(handler=cmd_demo)

    _extend(sub)
    return parser


def _extend(sub: Any) -> None:
    """Commands of the other packages (classifier, register, review, reconcile)."""
    from klachtwacht import commands

    commands.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KlachtwachtError as exc:
        print(f"klachtwacht: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
