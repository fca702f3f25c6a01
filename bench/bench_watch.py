"""Watcher benchmark: logins and delay from APPEND to stored, with IDLE on two folders.

    python bench/bench_watch.py [--messages 60] [--every 1.0]

Starts a throwaway Dovecot with one mailbox watched on INBOX and Klachten
(poll interval 300 s, so only IDLE can bring mail in quickly), appends a
message every ``--every`` seconds to the two folders in turn, and prints the
logins the watcher made (from Dovecot's log, minus the benchmark's own
APPEND sessions) and the delay from APPEND to the stored message.
Needs Dovecot (apt-get install dovecot-imapd) and root for its throwaway instance.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

PASSWORD = "bench-wachtwoord"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args()

    import tempfile

    from sqlalchemy import select
    from support.dovecot import Dovecot
    from support.mail import make_mail

    from klachtwacht.config import parse_config
    from klachtwacht.db.models import Message, MessageState
    from klachtwacht.pipeline import Services, parse_step
    from klachtwacht.runtime import App, run_service

    dovecot = Dovecot()
    dovecot.add_user("wethouder", PASSWORD)
    dovecot.start()
    tmp = tempfile.TemporaryDirectory()
    try:
        for folder in ("INBOX", "Klachten"):
            dovecot.append("wethouder", folder, make_mail(subject="Eerste", body="x", message_id=f"<first-{folder}@example.nl>"))
        config = parse_config(
            {
                "database": {"url": f"sqlite:///{tmp.name}/watch.db"},
                "broker": {"url": "memory://"},
                "mailboxes": [
                    {"name": "wethouder", "role": "wethouder", "address": "wethouder@gemeente-veenstad.nl", "folders": ["INBOX", "Klachten"],
                     "poll_interval": 300, "imap": {"host": "127.0.0.1", "port": dovecot.port, "security": "none", "username": "wethouder", "password_env": "KW_BENCH_PW"}}
                ],
            },
            "bench",
            env={"KW_BENCH_PW": PASSWORD},
        )
        app = App(config, Services(steps={MessageState.FETCHED: parse_step}))
        app.upgrade_schema()
        log_path = dovecot.base / "dovecot.log"

        def logins() -> int:
            return log_path.read_text(errors="replace").count("Login: user=<wethouder>")

        def stored() -> set[str]:
            with app.sessions() as session:
                return {mid for mid in session.scalars(select(Message.message_id)) if mid}

        stop = threading.Event()
        service = threading.Thread(target=run_service, args=(app, ("watch", "worker")), kwargs={"threads": 2, "stop": stop}, daemon=True)
        service.start()
        while len(stored()) < 2:
            time.sleep(0.05)
        time.sleep(1.0)
        before = logins()
        delays = []
        started = time.monotonic()
        for i in range(args.messages):
            mid = f"<watch-{i}@example.nl>"
            sent = time.monotonic()
            dovecot.append("wethouder", ("INBOX", "Klachten")[i % 2], make_mail(subject=f"Bericht {i}", body="x", message_id=mid))
            while mid not in stored():
                time.sleep(0.01)
            delays.append(time.monotonic() - sent)
            time.sleep(max(0.0, started + (i + 1) * args.every - time.monotonic()))
        elapsed = time.monotonic() - started
        watcher_logins = logins() - before - args.messages  # each APPEND above is one login of its own
        stop.set()
        service.join(20)
        app.close()
    finally:
        dovecot.close()
        tmp.cleanup()
    delays.sort()
    print(f"{args.messages} messages over {elapsed:.0f} s into 2 folders: {watcher_logins} watcher logins")
    print(f"APPEND to stored: median {statistics.median(delays) * 1000:.0f} ms, p95 {delays[int(len(delays) * 0.95) - 1] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
