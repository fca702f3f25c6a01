"""Ingestion benchmark: klachtwacht's full ingestion versus a bare fetch-and-parse.

    python bench/bench_ingest.py [--messages 10000] [--db sqlite|postgresql] [--big-attachment-mb 40]

Fills three Dovecot mailboxes on loopback with realistic messages (2 KB to
200 KB, some with attachments), then runs in separate processes, so each has
its own peak memory:

- bare: IMAPClient read-only fetch of BODY.PEEK[] in batches plus mail-parser
  on every message, nothing stored;
- full: klachtwacht's ingestion (fetch, store raw bytes, parse, state and
  history in the database) through the worker.

Prints messages per second, the ratio full/bare and the peak RSS of each.
``--big-attachment-mb N`` adds one message with an N MB attachment (memory
should stay flat whatever the attachment size).
Needs Dovecot (apt-get install dovecot-imapd) and root for its throwaway instance.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

USERS = ("wethouder", "raad", "secretariaat")
PASSWORD = "bench-wachtwoord"


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would count the parent's peak before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_messages(count: int, seed: int = 3) -> list[bytes]:
    """Realistic messages from the corpus, padded to 2-200 KB, a fifth with an attachment."""
    from classifiers.corpus import load_corpus

    rng = random.Random(seed)
    corpus = load_corpus()
    start = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    out = []
    for i in range(count):
        example = corpus[rng.randrange(len(corpus))]
        msg = EmailMessage()
        msg["From"] = example.sender
        msg["To"] = f"{USERS[i % 3]}@gemeente-veenstad.nl"
        msg["Subject"] = example.subject
        msg["Date"] = format_datetime(start + timedelta(minutes=7 * i))
        msg["Message-ID"] = f"<bench-{seed}-{i}@example.nl>"
        target = int(2_000 * (100 ** rng.random()))  # log-uniform 2 KB .. 200 KB
        body = example.body
        while len(body) < min(target, 40_000):
            body += "\n\n" + corpus[rng.randrange(len(corpus))].body
        msg.set_content(body)
        if rng.random() < 0.2 or target > 40_000:
            size = max(1_000, target - len(body))
            msg.add_attachment(rng.randbytes(size), maintype="application", subtype="pdf", filename=f"bijlage-{i}.pdf")
        out.append(bytes(msg))
    return out


def big_message(size: int) -> bytes:
    """One complaint with an attachment of ``size`` bytes (incompressible, as scanned PDFs are)."""
    msg = EmailMessage()
    msg["From"] = "Burger <burger@example.nl>"
    msg["To"] = "wethouder@gemeente-veenstad.nl"
    msg["Subject"] = "Klacht met een grote bijlage"
    msg["Date"] = format_datetime(datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc))
    msg["Message-ID"] = "<bench-big@example.nl>"
    msg.set_content("Geachte heer, mevrouw,\n\nIn de bijlage vindt u de foto's van de schade.\n")
    msg.add_attachment(random.Random(7).randbytes(size), maintype="application", subtype="pdf", filename="scan.pdf")
    return bytes(msg)


def run_bare(port: int) -> dict[str, float]:
    import mailparser
    from imapclient import IMAPClient


    t0 = time.perf_counter()
    n = 0
    for user in USERS:
        client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30)
        client.login(user, PASSWORD)
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        for i in range(0, len(uids), 100):
            data = client.fetch(uids[i : i + 100], ["BODY.PEEK[]", "INTERNALDATE"])
            for item in data.values():
                mailparser.parse_from_bytes(item[b"BODY[]"])
                n += 1
        client.logout()
    seconds = time.perf_counter() - t0
    return {"messages": n, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def run_full(port: int, db_url: str) -> dict[str, float]:
    from sqlalchemy import func, select

    from klachtwacht.config import parse_config
    from klachtwacht.db.models import Message, MessageState
    from klachtwacht.pipeline import Services, parse_step
    from klachtwacht.runtime import App

    config = parse_config(
        {
            "database": {"url": db_url},
            "broker": {"url": "memory://"},
            "mailboxes": [
                {"name": user, "role": "wethouder", "address": f"{user}@gemeente-veenstad.nl", "imap": {"host": "127.0.0.1", "port": port, "security": "none", "username": user, "password_env": "KW_BENCH_PW"}}
                for user in USERS
            ],
        },
        "bench",
        env={"KW_BENCH_PW": PASSWORD},
    )
    # ingestion only: fetch, store, parse; the classifier and the register are other benchmarks
    app = App(config, Services(steps={MessageState.FETCHED: parse_step}))
    app.upgrade_schema()
    worker = app.worker(threads=2)
    t0 = time.perf_counter()
    worker.start()
    for mailbox in config.mailboxes:
        app.poll(mailbox)
    total = 0
    while True:
        with app.sessions() as session:
            total = session.scalar(select(func.count()).select_from(Message))
            waiting = session.scalar(select(func.count()).select_from(Message).where(Message.state == MessageState.FETCHED))
        if not waiting:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    worker.stop()
    app.close()
    return {"messages": total, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--big-attachment-mb", type=float, default=0.0, help="add one message with an attachment this large")
    parser.add_argument("--phase", choices=("bare", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "bare":
        print(json.dumps(run_bare(args.port)))
        return
    if args.phase == "full":
        print(json.dumps(run_full(args.port, args.db_url)))
        return

    from support.dovecot import Dovecot

    messages = build_messages(args.messages)
    if args.big_attachment_mb:
        messages.append(big_message(int(args.big_attachment_mb * 1e6)))
    sizes = sorted(len(m) for m in messages)
    print(f"{len(messages)} messages, {sum(sizes) / 1e6:.0f} MB, median {sizes[len(sizes) // 2] / 1e3:.0f} KB, max {sizes[-1] / 1e3:.0f} KB")
    dovecot = Dovecot()
    for user in USERS:
        dovecot.add_user(user, PASSWORD)
    dovecot.start()
    try:
        for i, user in enumerate(USERS):
            dovecot.fast_fill(user, "INBOX", messages[i::3])
        with tempfile.TemporaryDirectory() as tmp:
            if args.db == "sqlite":
                db_url = f"sqlite:///{tmp}/bench.db"
            else:
                from sqlalchemy import create_engine, text

                admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("DROP DATABASE IF EXISTS kw_bench WITH (FORCE)"))
                    conn.execute(text("CREATE DATABASE kw_bench"))
                db_url = "postgresql+psycopg://postgres@127.0.0.1:5432/kw_bench"
            env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
            results = {}
            for phase in ("bare", "full"):
                out = subprocess.run(
                    [sys.executable, __file__, "--phase", phase, "--port", str(dovecot.port), "--db-url", db_url],
                    env=env, capture_output=True, text=True, check=True,
                )
                results[phase] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        dovecot.close()
    bare, full = results["bare"], results["full"]
    for name, r in (("bare fetch+parse", bare), (f"klachtwacht ingestion ({args.db})", full)):
        print(f"{name:34} {r['messages']:6d} messages in {r['seconds']:7.1f} s = {r['messages'] / r['seconds']:7.0f} msg/s, peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"ratio full/bare: {full['seconds'] / bare['seconds']:.2f}x")


if __name__ == "__main__":
    main()
