"""``klachtwacht reconcile``: the nightly reconciliation as a command.

Exit status: 0 clean, 1 findings, 2 could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

__all__ = ["register", "cmd_reconcile", "run_nightly", "report_folder"]

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser = sub.add_parser("reconcile", help="the nightly reconciliation: every message accounted for, every channel alive")
    parser.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    parser.add_argument("--date", type=date.fromisoformat, help="reconcile as on this day (YYYY-MM-DD), e.g. to catch up a missed night")
    parser.add_argument("--no-repair", action="store_true", help="report only: re-enqueue, fetch and remove nothing")
    parser.add_argument("--dry-run", action="store_true", help="change nothing and mail nobody: show what would be repaired and removed")
    parser.add_argument("--report-dir", help="folder for the HTML and CSV report (default: [reconcile] report_dir)")
    parser.add_argument("--no-mail", action="store_true", help="do not mail the report to the coordinators")
    parser.add_argument("--threads", type=int, default=2, help="worker threads for what a repair re-enqueues")
    parser.set_defaults(handler=cmd_reconcile)


def _report_dir(config_path: str, configured: str, override: str | None) -> Path:
    folder = Path(override or configured)
    return folder if folder.is_absolute() else Path(config_path).resolve().parent / folder


def report_folder(config: Any) -> Path:
    """Where the nightly reports (and the audit of the past) are written: ``[reconcile] report_dir``."""
    return _report_dir(config.path, config.reconcile.report_dir, None)


def run_nightly(
    app: Any, day: date | None = None, *, repair: bool = True, report_dir: str | None = None, mail: bool = True, threads: int = 2
) -> Any:
    """Reconcile, wait for what the repairs started, write the report and mail it; return the run's result and files."""
    from klachtwacht.notices.mailer import Mailer
    from klachtwacht.reconcile.report import send_reports, write_report
    from klachtwacht.reconcile.run import Reconciler

    config = app.config
    worker = app.worker(threads) if repair else None
    if worker is not None:
        worker.start()
    try:
        result = Reconciler(app, repair=repair, progress=lambda step: log.info("reconcile: %s", step)).run(day)
        if result.enqueued:
            left = app.wait_final(list(result.enqueued), timeout=config.ingest.wait_timeout)
            if left:
                log.warning("reconcile: %d repaired messages did not reach a final state in time; they are kept and retried", len(left))
    finally:
        if worker is not None:
            worker.stop()
    organisation = config.organisations[0].display_name if config.organisations else "de gemeente"
    files = write_report(result.report, result.volumes, _report_dir(config.path, config.reconcile.report_dir, report_dir), organisation)
    sent = 0
    if mail and config.reconcile.coordinators:
        sent = send_reports(Mailer(config.smtp), result.report, files, config.reconcile.coordinators,
                            config.smtp.sender.split("@", 1)[1], config.reconcile.daily_ok_mail)
    log.info("reconcile: report written to %s; mailed to %d coordinators", files.html, sent)
    return result, files


def cmd_reconcile(args: argparse.Namespace) -> int:
    from klachtwacht.cli import build_app, load_command_config

    if args.threads < 1:
        print("klachtwacht: --threads must be at least 1", file=sys.stderr)
        return 2
    app = build_app(load_command_config(args))  # an unreachable database is one clear line and exit 2 (klachtwacht.cli)
    try:
        result, files = run_nightly(app, args.date, repair=not (args.no_repair or args.dry_run), report_dir=args.report_dir,
                                    mail=not (args.no_mail or args.dry_run),
                                    threads=args.threads)
    except OperationalError as exc:
        print("klachtwacht: the database went away during reconciliation (database.url): %s" % str(exc.orig).strip().splitlines()[0], file=sys.stderr)
        return 2
    finally:
        app.close()
    report = result.report
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        from klachtwacht.reconcile.findings import KINDS

        print("Controle van %s: %s" % (report.date.isoformat(), "alles in orde" if report.clean else "%d bevindingen" % len(report.findings)))
        for f in report.to_dict()["findings"]:
            print("  [%s] %s%s: %s%s" % (f["severity"], KINDS[f["kind"]], " (%s)" % f["mailbox"] if f["mailbox"] else "", f["detail"],
                                          " (hersteld)" if f["repaired"] else ""))
        print("Rapport: %s" % files.html)
    return int(report.exit_code)
