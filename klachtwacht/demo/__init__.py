"""``klachtwacht demo``: the whole flow on a fresh machine, with nothing to set up.

A throwaway IMAP server with three sample mailboxes, an SMTP sink, SQLite in
a temporary folder, one ingest pass, and a summary of what happened to each
message: its label, the decision, the register entry and the notices sent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from klachtwacht.demo.history import audit_summary, build_history
from klachtwacht.demo.imapserver import DemoImapServer
from klachtwacht.demo.samples import build_samples
from klachtwacht.demo.smtpsink import DemoSmtpSink
from klachtwacht.demo.summary import DemoMessage, dutch_report, recipient_role, technical_report

__all__ = ["run_demo"]

PASSWORD = "demo-wachtwoord"
MAILBOXES = (
    ("wethouder-devries", "wethouder", "wethouder", "secretariaat.devries@gemeente-veenstad.nl"),
    ("griffie", "raad", "raad", "griffie@gemeente-veenstad.nl"),
    ("college", "secretariaat", "secretariaat", "bestuurssecretariaat@gemeente-veenstad.nl"),
)


def _config_text(folder: Path, imap_port: int, smtp_port: int) -> str:
    lines = [
        "[database]",
        f'url = "sqlite:///{folder / "klachtwacht.db"}"',
        "[broker]",
        'url = "memory://"',
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {smtp_port}",
        'sender = "klachten@gemeente-veenstad.nl"',
        "[register]",
        'backend = "database"',
        "[ingest]",
        "start = 2026-11-01",  # this morning's mail is new to klachtwacht; the wethouder's older mail is history
        "max_age_days = 0",
        "[[organisations]]",
        'name = "veenstad"',
        'display_name = "Gemeente Veenstad"',
        'complaints_team = "de klachtencoördinator"',
        'complaints_address = "klachten@gemeente-veenstad.nl"',
        'bezwaar_address = "bezwaar@gemeente-veenstad.nl"',
        'woo_address = "woo@gemeente-veenstad.nl"',
        'phone = "14 0555"',
        'website = "https://www.gemeente-veenstad.nl/klacht"',
    ]
    for name, user, role, secretary in MAILBOXES:
        lines += [
            "[[mailboxes]]",
            f'name = "{name}"',
            f'role = "{role}"',
            f'address = "{user}@gemeente-veenstad.nl"',
            'organisation = "veenstad"',
            f'secretary = "{secretary}"',
            "[mailboxes.imap]",
            'host = "127.0.0.1"',
            f"port = {imap_port}",
            'security = "none"',
            f'username = "{user}"',
            'password_env = "KW_DEMO_PASSWORD"',
        ]
    return "\n".join(lines) + "\n"


def _roles() -> dict[str, str]:
    """Known addresses of the demo by the role a secretary knows them by."""
    roles = {secretary: "het secretariaat" for _, _, _, secretary in MAILBOXES}
    roles.update({"bezwaar@gemeente-veenstad.nl": "het bezwaarteam", "woo@gemeente-veenstad.nl": "het Woo-loket",
                  "klachten@gemeente-veenstad.nl": "de klachtencoördinator"})
    return roles


def _messages(app: Any) -> list[DemoMessage]:
    from sqlalchemy import select

    from klachtwacht.db.models import Effect, Message
    from klachtwacht.queries import list_messages, list_register

    register = {row["message_id"]: row["number"] for row in list_register(app.sessions)}
    out = []
    with app.sessions() as session:
        for row in list_messages(app.sessions):
            if row["state"] == "history":  # shown by the audit below, not as this morning's mail
                continue
            message = session.get(Message, row["id"])
            effects = session.scalars(select(Effect.effect).where(Effect.message_pk == row["id"], Effect.status == "done").order_by(Effect.id))
            out.append(DemoMessage(
                subject=message.subject if message else None, mailboxes=tuple(row["mailboxes"]), state=row["state"], label=row["label"],
                confidence=row["confidence"], decision=row["decision"], number=register.get(row["message_id"]),
                effects=(("register",) if register.get(row["message_id"]) else ()) + tuple(effects),
            ))
    return out


def _reconcile_summary(app: Any, folder: Path) -> str:
    """The nightly reconciliation, run once now, in Dutch for the coordinator (nothing is mailed)."""
    from klachtwacht.reconcile.command import run_nightly
    from klachtwacht.reconcile.findings import KINDS

    result, files = run_nightly(app, repair=True, mail=False, report_dir=str(folder / "rapporten"))
    report = result.report
    lines = ["Nachtelijke controle (klachtwacht reconcile), nu alvast gedraaid:"]
    if report.clean:
        lines.append("  alles in orde: elk bericht is verantwoord, elke klacht geregistreerd en elk kanaal werkt.")
    for finding in report.findings:
        lines.append("  - %s: %s" % (KINDS[finding.kind], finding.detail))
    lines.append("  rapport met grafieken: %s" % files.html)
    return "\n".join(lines)


#: The demo's accounts of the review app: (name, role, mailboxes, what she does).
ACCOUNTS = (
    ("secretaris", "secretaris", tuple(m[0] for m in MAILBOXES), "beoordeelt de twijfelgevallen in de drie postbussen"),
    ("coordinator", "coordinator", (), "ziet alle postbussen, het overzicht, de steekproef en het auditlog"),
    ("beheerder", "beheerder", (), "beheert de accounts"),
)
WEB_PASSWORD = "demo-wachtwoord"


def _free_port(preferred: int) -> int:
    import socket

    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _serve_review_app(app: Any, config: Any) -> None:
    """The review web app on 127.0.0.1 with the demo's accounts, until Ctrl-C."""
    import uvicorn

    from klachtwacht.review import steekproef
    from klachtwacht.web.accounts import add_user
    from klachtwacht.web.command import serve_app
    from klachtwacht.web.passwords import make_hasher

    hasher = make_hasher()
    for name, role, boxes, _ in ACCOUNTS:
        add_user(app.sessions, config, hasher, name, WEB_PASSWORD, role=role, mailboxes=boxes)
    week = steekproef.iso_week(build_samples()[0][2])  # the week of the sample mail: a steekproef for the coordinator
    drawn = steekproef.draw(app.sessions, config=config, organisation="veenstad", week=week, size=3)
    port = _free_port(config.web.port)
    print()
    print("De beoordelingsapp draait nu (alleen op deze computer):")
    print(f"  open http://127.0.0.1:{port}/ in uw browser en meld u aan met:")
    for name, _, _, does in ACCOUNTS:
        print(f"    gebruikersnaam {name:12} wachtwoord {WEB_PASSWORD}  ({does})")
    print(f"  De coördinator vindt ook een steekproef van {len(drawn)} automatische besluiten om te bevestigen.")
    print("  Druk op Ctrl-C om de demo te stoppen.", flush=True)
    uvicorn.run(serve_app(app), host="127.0.0.1", port=port, log_level="warning", server_header=False)


def run_demo(*, serve: bool = True, keep: bool = False) -> int:
    """Run the demo; with ``serve`` keep the servers up until Ctrl-C."""
    from klachtwacht.cli import build_app
    from klachtwacht.config import load_config
    from klachtwacht.runtime import run_ingest_once

    folder = Path(tempfile.mkdtemp(prefix="klachtwacht-demo-"))
    imap = DemoImapServer()
    users = {user for _, user, _, _ in MAILBOXES}
    for boxes, raw, received in build_samples():
        for box in boxes:
            if box in users:
                imap.add(box, PASSWORD, "INBOX", raw, received)
    for raw, received in build_history():
        imap.add("wethouder", PASSWORD, "INBOX", raw, received)
    imap.start()
    smtp = DemoSmtpSink()
    smtp.start()
    app = None
    try:
        config_path = folder / "klachtwacht.toml"
        config_path.write_text(_config_text(folder, imap.port, smtp.port), encoding="utf-8")
        os.environ["KW_DEMO_PASSWORD"] = PASSWORD
        config = load_config(config_path)
        print("klachtwacht-demo: drie postbussen van de fictieve Gemeente Veenstad (alle namen en adressen zijn verzonnen)")
        print("het model wordt geladen en de post opgehaald ...", flush=True)
        app = build_app(config)
        summary = run_ingest_once(app)
        messages = _messages(app)
        roles = _roles()
        sent = [recipient_role(rcpt, roles) for rcpts, _ in smtp.messages for rcpt in rcpts]
        print()
        print(dutch_report(messages, sent, "Gemeente Veenstad"))
        print()
        print(_reconcile_summary(app, folder))
        print()
        print(audit_summary(app, folder))
        print()
        details = {
            "folder": f"{folder} ({'kept' if keep or serve else 'removed at the end; run klachtwacht demo --no-serve --keep to keep it'})",
            "configuration": config_path,
            "IMAP server": f"127.0.0.1:{imap.port}, mailboxes " + ", ".join(m[0] for m in MAILBOXES),
            "SMTP sink": f"127.0.0.1:{smtp.port}, {len(smtp.messages)} notices received",
            "fetched": ", ".join(f"{m['name']} {m['fetched']}" + (f" (ERRORS: {'; '.join(m['errors'])})" if m["errors"] else "") for m in summary["mailboxes"]),
        }
        print(technical_report(messages, details))
        print()
        if keep or serve:
            print("Look further (the folder stays; these read the demo's database):")
            print(f"  klachtwacht --config {config_path} messages list")
            print(f"  klachtwacht --config {config_path} register list")
        else:
            print("Look further: run klachtwacht demo --no-serve --keep, then klachtwacht --config <its folder>/klachtwacht.toml messages list")
        if serve:
            print(f"While the demo runs, with the servers up: KW_DEMO_PASSWORD={PASSWORD} klachtwacht --config {config_path} check")
            _serve_review_app(app, config)
        return 0 if summary["not_final"] == 0 else 1
    finally:
        if app is not None:
            app.close()
        smtp.stop()
        imap.stop()
        if not keep and not serve:
            shutil.rmtree(folder, ignore_errors=True)
