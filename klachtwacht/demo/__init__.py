"""``klachtwacht demo``: the whole flow on a fresh machine, with nothing to set up.

A throwaway IMAP server with three sample mailboxes, an SMTP sink, SQLite in
a temporary folder, one ingest pass, and a summary of what happened to each
message: its label, the decision, the register entry and the notices sent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from klachtwacht.demo.imapserver import DemoImapServer
from klachtwacht.demo.samples import build_samples
from klachtwacht.demo.smtpsink import DemoSmtpSink

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


def run_demo(*, serve: bool = True, keep: bool = False) -> int:
    """Run the demo; with ``serve`` keep the servers up until Ctrl-C."""
    from klachtwacht.config import load_config
    from klachtwacht.queries import list_messages, list_register
    from klachtwacht.runtime import App, run_ingest_once
    from klachtwacht.wiring import build_services

    folder = Path(tempfile.mkdtemp(prefix="klachtwacht-demo-"))
    imap = DemoImapServer()
    users = {user for _, user, _, _ in MAILBOXES}
    for boxes, raw, received in build_samples():
        for box in boxes:
            if box in users:
                imap.add(box, PASSWORD, "INBOX", raw, received)
    imap.start()
    smtp = DemoSmtpSink()
    smtp.start()
    app = None
    try:
        config_path = folder / "klachtwacht.toml"
        config_path.write_text(_config_text(folder, imap.port, smtp.port), encoding="utf-8")
        os.environ["KW_DEMO_PASSWORD"] = PASSWORD
        config = load_config(config_path)
        print(f"klachtwacht demo in {folder}")
        print(f"IMAP server on 127.0.0.1:{imap.port} with mailboxes {', '.join(m[0] for m in MAILBOXES)}; SMTP sink on 127.0.0.1:{smtp.port}")
        print("loading the classifier ...")
        app = App(config, build_services(config))
        app.upgrade_schema()
        summary = run_ingest_once(app)
        print()
        for mailbox in summary["mailboxes"]:
            print(f"  {mailbox['name']:20} {mailbox['fetched']} berichten opgehaald" + (f"  FOUT: {'; '.join(mailbox['errors'])}" if mailbox["errors"] else ""))
        rows = list_messages(app.sessions)
        register = {row["message_id"]: row for row in list_register(app.sessions)}
        print()
        print(f"{'toestand':12} {'label':13} {'zeker':>6}  {'besluit':9} {'register':16} onderwerp")
        with app.sessions() as session:
            from klachtwacht.db.models import Message

            for row in rows:
                message = session.get(Message, row["id"])
                subject = (message.subject if message and message.subject else "(onleesbaar)")[:48]
                number = register.get(row["message_id"], {}).get("number", "")
                confidence = f"{row['confidence']:.0%}" if row["confidence"] is not None else "-"
                print(f"{row['state']:12} {row['label'] or '-':13} {confidence:>6}  {row['decision'] or '-':9} {number:16} {subject}")
        print()
        print(f"{len(register)} klachten geregistreerd; {len(smtp.messages)} berichten verstuurd:")
        for rcpts, sent in smtp.messages:
            print(f"  aan {', '.join(rcpts)}: {str(sent['Subject']).strip()}")
        print()
        print(f"configuration: {config_path}")
        print(f"try: klachtwacht --config {config_path} messages list --json")
        if serve:
            print("the servers keep running; press Ctrl-C to stop (the review web app is not part of this version yet)")
            stop = threading.Event()
            try:
                stop.wait()
            except KeyboardInterrupt:
                pass
        return 0 if summary["not_final"] == 0 else 1
    finally:
        if app is not None:
            app.close()
        smtp.stop()
        imap.stop()
        if not keep and not serve:
            shutil.rmtree(folder, ignore_errors=True)
