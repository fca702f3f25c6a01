"""Reconciliation benchmark: a large store against a real Dovecot.

    python bench/bench_reconcile.py [--messages 100000] [--mailboxes 20] [--db sqlite|postgresql]

Fills ``--mailboxes`` Dovecot mailboxes (straight into their maildirs) with
small messages, records every one of them in the database as if ingested
(messages and sightings spread over two years of history, so the volume
checks have work), leaves a few out so that the mailbox check finds gaps, and
then times ``klachtwacht reconcile --json --no-repair`` as a separate
process: wall time and its peak RSS. Needs Dovecot and root for its throwaway
instance. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
PASSWORD = "bench-wachtwoord"


def _mail(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Burger %d <burger%d@example.nl>" % (i, i)
    msg["To"] = "wethouder@gemeente-veenstad.nl"
    msg["Subject"] = "Bericht %d" % i
    msg["Message-ID"] = "<bench-%d@example.nl>" % i
    msg.set_content("Tekst van bericht %d.\n" % i)
    return bytes(msg)


def _database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return "sqlite:///%s" % (folder / "bench.db")
    from sqlalchemy import create_engine, text

    name = "kw_bench_%d" % os.getpid()
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "%s"' % name))
        conn.execute(text('CREATE DATABASE "%s"' % name))
    return "postgresql+psycopg://postgres@127.0.0.1:5432/%s" % name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--mailboxes", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--missing", type=int, default=5, help="sightings left out per mailbox")
    args = parser.parse_args()

    import imapclient
    from sqlalchemy import insert
    from support.dovecot import Dovecot

    from klachtwacht.db import make_engine, make_sessionmaker, upgrade
    from klachtwacht.db.models import FolderCursor, Message, RawBlob, Sighting

    per_box = args.messages // args.mailboxes
    users = ["bestuurder%02d" % n for n in range(args.mailboxes)]
    dovecot = Dovecot()
    for user in users:
        dovecot.add_user(user, PASSWORD)
    with tempfile.TemporaryDirectory() as tmp, dovecot:
        t0 = time.monotonic()
        for b, user in enumerate(users):
            dovecot.fast_fill(user, "INBOX", (_mail(b * per_box + i) for i in range(per_box)))
        url = _database(args.db, Path(tmp))
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        now = datetime.now(timezone.utc)
        with sessions.begin() as session:
            session.execute(insert(RawBlob), [{"sha256": "0" * 64, "size": 0, "data": b"", "stored_at": now}])
        pk = 1
        for b, user in enumerate(users):
            with imapclient.IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
                client.login(user, PASSWORD)
                info = client.select_folder("INBOX", readonly=True)
                uids = sorted(client.search(["ALL"]))
                validity = int(info[b"UIDVALIDITY"])
            messages, sightings = [], []
            for n, uid in enumerate(uids[: len(uids) - args.missing]):
                at = now - timedelta(days=(n * 730) // max(1, len(uids)))
                messages.append({"id": pk, "identity": "mid:<bench-%d>" % pk, "message_id": "<bench-%d>" % pk, "blob_sha256": "0" * 64,
                                 "received_at": at, "state": "done", "label": ("klacht", "beleidsvraag", "overig")[pk % 3],
                                 "state_changed_at": at, "attempts": 0, "created_at": at})
                sightings.append({"message_pk": pk, "mailbox": user, "folder": "INBOX", "uidvalidity": validity, "uid": uid,
                                  "internaldate": at, "blob_sha256": "0" * 64, "seen_at": at})
                pk += 1
            with sessions.begin() as session:
                for start in range(0, len(messages), 5000):
                    session.execute(insert(Message), messages[start : start + 5000])
                    session.execute(insert(Sighting), sightings[start : start + 5000])
                session.execute(insert(FolderCursor), [{"mailbox": user, "folder": "INBOX", "uidvalidity": validity, "last_uid": max(uids),
                                                        "epoch": 1, "last_poll_at": now, "updated_at": now}])
        engine.dispose()
        print("filled %d messages in %d mailboxes in %.0f s" % (per_box * len(users), len(users), time.monotonic() - t0), flush=True)
        lines = ['[database]', 'url = "%s"' % url, '[reconcile]', 'window_days = 3650', 'report_dir = "%s"' % (Path(tmp) / "rapport")]
        for user in users:
            lines += ["[[mailboxes]]", 'name = "%s"' % user, 'role = "wethouder"', 'address = "%s@gemeente-veenstad.nl"' % user,
                      "[mailboxes.imap]", 'host = "127.0.0.1"', "port = %d" % dovecot.port, 'security = "none"',
                      'username = "%s"' % user, 'password_env = "KW_BENCH_PASSWORD"']
        config = Path(tmp) / "klachtwacht.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**os.environ, "KW_BENCH_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
        started = time.monotonic()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "reconcile",
                               "--json", "--no-repair", "--no-mail"], capture_output=True, text=True, env=env)
        wall = time.monotonic() - started
        peak_kb = int(done.stderr.strip().splitlines()[-1])
        report = json.loads(done.stdout)
        missing = sum(len(f["messages"]) or 1 for f in report["findings"] if f["kind"] == "mailbox_missing_messages")
        print("reconcile of %d stored messages in %d mailboxes: %.1f s wall, peak RSS %.0f MB, exit %d, %d findings (%d mailbox gaps)"
              % (per_box * len(users), len(users), wall, peak_kb / 1024, done.returncode, len(report["findings"]), missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
