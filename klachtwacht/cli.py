"""The ``klachtwacht`` command.

Exit status: 0 success, 1 findings or partial failure, 2 could not run.
Every expected failure ends in one line naming the configuration key, the
address or path and what to do; the traceback only with ``--debug``.
``--config``, ``--debug``, ``--verbose`` and ``--log-format`` may be given
before or after the sub-command.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from klachtwacht.config import Config, load_config
from klachtwacht.errors import ConfigError, DatabaseUnavailable, KlachtwachtError, UsageError
from klachtwacht.explain import database_error, database_target, is_database_error
from klachtwacht.logsetup import LOG_FORMATS, configure_logging

__all__ = ["main", "database", "load_command_config", "build_app"]

log = logging.getLogger("klachtwacht")

Handler = Callable[[argparse.Namespace], int]


def load_command_config(args: argparse.Namespace, *, secrets: bool = True) -> Config:
    """The configuration of this command; a missing file says where it looked and how to point elsewhere.

    ``secrets=False`` for commands that connect to no mailbox or server (see
    :class:`klachtwacht.config.UnloadedSecret`).
    """
    if args.config:
        path, source = args.config, "given with --config"
    elif os.environ.get("KLACHTWACHT_CONFIG"):
        path, source = os.environ["KLACHTWACHT_CONFIG"], "from KLACHTWACHT_CONFIG"
    else:
        path, source = "klachtwacht.toml", "the default"
    if not Path(path).is_file() and not Path(path).exists():
        raise ConfigError(
            path, "", f"file not found (looked for {Path(path).resolve()}, {source}); give the file with --config PATH or the KLACHTWACHT_CONFIG variable"
        )
    config = load_config(path, secrets=secrets)
    args.database_url = config.database.url
    return config


def _upgrade(url: str) -> None:
    """Create or migrate the schema; a database that cannot be reached or written is one clear error."""
    from klachtwacht.db import make_engine, upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as exc:
        if is_database_error(exc):
            raise database_error(exc, url) from exc
        raise
    finally:
        engine.dispose()


def build_app(config: Config, **options: Any) -> Any:
    """The one place the command line builds the application (services from steps, App from runtime)."""
    from klachtwacht.runtime import App
    from klachtwacht.wiring import build_services

    _upgrade(config.database.url)  # before the model loads: a missing database is told at once
    return App(config, build_services(config), **options)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Any]:
    """A session factory on the configured database, schema brought up to date; no secrets needed."""
    from klachtwacht.db import make_engine, make_sessionmaker

    config = load_command_config(args, secrets=False)
    _upgrade(config.database.url)
    engine = make_engine(config.database.url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _print_json_lines(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    config = load_command_config(args, secrets=False)
    _upgrade(config.database.url)
    print(f"database {database_target(config.database.url)} is up to date")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    config = load_command_config(args)
    if not args.once:
        return _serve(config, ("watch", "worker", "schedule"), args.threads, args.processes)
    return _ingest_once(args, config)


def _serve(config: Config, parts: tuple[str, ...], threads: int, processes: int = 1) -> int:
    """A long-running part: the broker must answer at start (exit 2), a mail server that is down is retried."""
    from klachtwacht.check import FAIL, check_broker, check_smtp
    from klachtwacht.runtime import run_service

    broker = check_broker(config)
    if broker.status == FAIL:
        print(f"klachtwacht: {broker.detail}", file=sys.stderr)
        return 2
    if "worker" in parts:
        smtp = check_smtp(config)
        if smtp.status == FAIL:
            log.warning("%s; notices wait and are retried until it answers", smtp.detail)
    app = build_app(config)
    try:
        return int(run_service(app, parts=parts, threads=threads, processes=processes))
    finally:
        app.close()


def _ingest_once(args: argparse.Namespace, config: Config) -> int:
    from klachtwacht.oneshot import ONE_SHOT_BACKOFF, PassObserver, preflight
    from klachtwacht.runtime import run_ingest_once

    _upgrade(config.database.url)
    problems = preflight(config)
    if problems:
        for line in problems:
            print(f"klachtwacht: {line} (nothing was fetched)", file=sys.stderr)
        return 2
    app = build_app(config, backoff=ONE_SHOT_BACKOFF)
    slowest = max((m.imap.connect_timeout for m in config.mailboxes), default=0.0)
    waits = sum(min(ONE_SHOT_BACKOFF.cap, ONE_SHOT_BACKOFF.base * 2**i) * 1.5 for i in range(ONE_SHOT_BACKOFF.attempts - 1))
    log.info(
        "ingest: one pass over %d mailboxes; a mail server that does not answer is tried %d times (at most about %.0f s), then reported",
        len(config.mailboxes), ONE_SHOT_BACKOFF.attempts, ONE_SHOT_BACKOFF.attempts * slowest + waits,
    )
    observer = None
    try:
        observer = PassObserver(app.sessions)
        with observer:
            summary = run_ingest_once(app, threads=args.threads, processes=args.processes)
    except Exception as exc:
        if not (is_database_error(exc) or isinstance(exc, DatabaseUnavailable)):
            raise
        if args.debug:
            log.exception("the database failed during the pass")
        where = database_target(config.database.url)
        print(f"klachtwacht: database.url: {where} went away during the pass; what was stored is kept; bring the database back and run ingest --once again", file=sys.stderr)
        if observer is not None:
            new = observer.new()
            print(f"before that: {new.stored} new messages were stored, {new.at_rest} of them reached a final state; the rest continue at the next pass", file=sys.stderr)
        return 1
    finally:
        app.close()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary, config)
    failed = any(m["errors"] for m in summary["mailboxes"]) or summary["not_final"]
    return 1 if failed else 0


def _print_summary(summary: dict[str, Any], config: Config) -> None:
    from klachtwacht.explain import mailbox_problem

    index = {m.name: (i, m) for i, m in enumerate(config.mailboxes)}
    for mailbox in summary["mailboxes"]:
        line = f"{mailbox['name']}: {mailbox['fetched']} fetched, {mailbox['new']} new here, {mailbox.get('seen_again', 0)} seen again"
        if mailbox["errors"]:
            i, cfg = index[mailbox["name"]]
            if cfg.graph is not None:
                problems = [f"mailboxes[{i}].graph: {e}" for e in mailbox["errors"]]
            else:
                problems = [mailbox_problem(f"mailboxes[{i}].imap", cfg.imap.host, cfg.imap.port, e) for e in mailbox["errors"]]
            line += "; ERRORS: " + "; ".join(problems)
        print(line)
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary["states"].items()))
    print(f"{summary['new_messages']} new messages; states now: {states or 'none'}")
    if summary["not_final"]:
        print(f"{summary['not_final']} messages did not reach a final state in time (they are kept and retried; klachtwacht messages list says why)")


def cmd_messages_list(args: argparse.Namespace) -> int:
    from klachtwacht.queries import list_messages, waiting

    with database(args) as sessions:
        rows = list_messages(sessions, state=args.state)
        if args.json:
            _print_json_lines(rows)
            return 0
        config = load_command_config(args, secrets=False)
        why = waiting(sessions, rows, stuck_after=config.ingest.stuck_after)
    for row in rows:
        print(f"{row['id']:>6} {row['state']:12} {row['label'] or '-':13} {', '.join(row['mailboxes']):30} {row['message_id'] or '(no Message-ID)'}")
        if row["id"] in why:
            print(f"{'':6} {why[row['id']]}")
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    parts = {"run": ("watch", "worker", "schedule"), "worker": ("worker",), "watch": ("watch",), "schedule": ("schedule",)}[args.command]
    return _serve(load_command_config(args), parts, args.threads, getattr(args, "processes", 1))


def cmd_check(args: argparse.Namespace) -> int:
    from klachtwacht.check import FAIL, CheckResult, as_json, passed, run_checks, table

    try:
        config = load_command_config(args, secrets=False)
    except ConfigError as exc:  # nothing else can be tried: one failing line, for the table and for monitoring
        results = [CheckResult("configuration", FAIL, str(exc))]
    else:
        results = run_checks(config)
    print(as_json(results) if args.json else table(results))
    return 0 if passed(results) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from klachtwacht.demo import run_demo

    return run_demo(serve=not args.no_serve, keep=args.keep)


def threads(value: str) -> int:
    """``--threads``: a whole number, at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klachtwacht", description="Recognise, register and acknowledge complaints in bestuurders' mailboxes.")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or migrate the schema").set_defaults(handler=cmd_db_upgrade)

    ingest = sub.add_parser("ingest", help="fetch and process mail")
    ingest.add_argument("--once", action="store_true", help="one pass over every mailbox, then stop")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.add_argument("--threads", type=threads, default=2, help="worker threads in this process (at least 1)")
    ingest.add_argument("--processes", type=threads, default=1, help="worker processes in all (more than 1 needs Redis or RabbitMQ)")
    ingest.set_defaults(handler=cmd_ingest)

    messages = sub.add_parser("messages", help="stored messages")
    messages_sub = messages.add_subparsers(dest="messages_command", required=True)
    listing = messages_sub.add_parser("list", help="one line (or JSON object) per message; why a message waits")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--state", help="only messages in this state")
    listing.set_defaults(handler=cmd_messages_list)

    for name, text in (("run", "everything in one process"), ("worker", "process queued work"), ("watch", "watch the mailboxes (IDLE and polling)"), ("schedule", "periodic jobs: sweeper")):
        part = sub.add_parser(name, help=text)
        part.add_argument("--threads", type=threads, default=4, help="worker threads (at least 1)")
        if name == "worker":
            part.add_argument("--processes", type=threads, default=1, help="worker processes in all (more than 1 needs Redis or RabbitMQ)")
        part.set_defaults(handler=cmd_service)

    check = sub.add_parser("check", help="try the configuration, database, broker, SMTP, mailboxes, register, model and templates")
    check.add_argument("--json", action="store_true", help="one JSON object, for monitoring")
    check.set_defaults(handler=cmd_check)

    demo = sub.add_parser("demo", help="end-to-end demo on a throwaway mail server")
    demo.add_argument("--no-serve", action="store_true", help="stop after the summary")
    demo.add_argument("--keep", action="store_true", help="keep the temporary folder (with --no-serve)")
    demo.set_defaults(handler=cmd_demo)

    _extend(sub)
    _add_global_options(parser, top=True)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after the sub-command's name."""
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    parser.add_argument("--config", default=default(None), help="configuration file (default klachtwacht.toml or $KLACHTWACHT_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", default=default(False), help="log more")
    parser.add_argument("--debug", action="store_true", default=default(False), help="log everything and show tracebacks")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=default("text"), help="text (default) or json, one object per line")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_global_options(child, top=False)


def _extend(sub: Any) -> None:
    """Commands of the other packages (classifier, register, review, reconcile)."""
    from klachtwacht import commands

    commands.register(sub)


def _quiet_broken_pipe() -> int:
    """The reader went away (``| head``): stop writing, say nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 0


def _fail(line: str, args: argparse.Namespace, exc: BaseException) -> int:
    if args.debug:
        log.error("traceback of the failure below", exc_info=exc)
    print(line, file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose, debug=args.debug, log_format=args.log_format)
    handler: Handler = args.handler
    try:
        status = handler(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", args, exc)
    except UsageError as exc:
        return _fail(f"klachtwacht: {exc}", args, exc)
    except KlachtwachtError as exc:
        return _fail(f"klachtwacht: {exc}", args, exc)
    except Exception as exc:
        url = getattr(args, "database_url", None)
        if url and is_database_error(exc):
            return _fail(f"klachtwacht: {database_error(exc, url)}", args, exc)
        hint = "" if args.debug else " (run again with --debug for the traceback)"
        return _fail(f"klachtwacht: unexpected {type(exc).__name__}: {str(exc)[:300]}{hint}", args, exc)


if __name__ == "__main__":
    sys.exit(main())
