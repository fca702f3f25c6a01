"""Register-and-notify benchmark.

    python bench/bench_flow.py latency [--messages 200] [--db sqlite|postgresql]
    python bench/bench_flow.py backlog [--messages 10000] [--db sqlite|postgresql] [--profile]

latency: with the watcher running (IDLE) against Dovecot, complaints are
appended one by one; for each, the time from APPEND until its register entry
exists and the sender's notice was accepted by the SMTP server. Prints the
median and the 95th percentile.

backlog: a backlog of classified messages (complaints, policy questions and
other mail in the corpus's proportions) goes through decide, register and
notify with two worker threads; prints messages per second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

PASSWORD = "bench-wachtwoord"


def fresh_database(kind: str, tmp: str, name: str = "kw_bench_flow") -> str:
    """The URL of an empty database: a SQLite file in ``tmp``, or PostgreSQL database ``name`` made anew."""
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench.db"
    from sqlalchemy import create_engine, text

    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _config(db_url: str, imap_port: int, smtp_port: int) -> object:
    from klachtwacht.config import parse_config

    return parse_config(
        {
            "database": {"url": db_url},
            "broker": {"url": "memory://"},
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "sender": "klachten@gemeente-veenstad.nl"},
            "rules": {"notices_per_sender_per_day": 1000000},
            "mailboxes": [
                {
                    "name": "wethouder",
                    "role": "wethouder",
                    "address": "wethouder@gemeente-veenstad.nl",
                    "poll_interval": 300,
                    "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none", "username": "wethouder", "password_env": "PW"},
                }
            ],
        },
        "bench",
        env={"PW": PASSWORD},
    )


def latency(count: int, db: str) -> None:
    from sqlalchemy import select
    from support.dovecot import Dovecot
    from support.mail import make_mail
    from support.smtp import SmtpSink

    from klachtwacht.db.models import Message, RegisterEntry
    from klachtwacht.runtime import App, run_service
    from klachtwacht.wiring import build_services

    complaint = (
        "Geachte wethouder,\n\nIk heb de kapotte lantaarnpaal voor ons huis nu al vier keer gemeld en er gebeurt helemaal niets. "
        "Niemand belt terug, niemand reageert op mijn mails. Dit is echt schandalig, zo ga je niet met inwoners om.\n\nGroet, {n}"
    )
    with tempfile.TemporaryDirectory() as tmp, SmtpSink() as smtp, Dovecot() as dovecot:
        dovecot.add_user("wethouder", PASSWORD)
        time.sleep(1.1)
        config = _config(fresh_database(db, tmp), dovecot.port, smtp.port)
        app = App(config, build_services(config))  # type: ignore[arg-type]
        app.upgrade_schema()
        stop = threading.Event()
        runner = threading.Thread(target=run_service, args=(app, ("watch", "worker")), kwargs={"threads": 4, "stop": stop}, daemon=True)
        runner.start()
        time.sleep(2)
        times = []
        for i in range(count):
            sender = f"burger{i}@example.nl"
            mid = f"<lat-{i}@example.nl>"
            t0 = time.perf_counter()
            dovecot.append("wethouder", "INBOX", make_mail(subject=f"Lantaarnpaal {i}", body=complaint.format(n=i), sender=sender, message_id=mid))
            while True:
                sent = any(sender in m.rcpt_tos for m in smtp.messages[-10:])
                if sent:
                    with app.sessions() as session:
                        registered = session.scalar(
                            select(RegisterEntry.number).join(Message, Message.id == RegisterEntry.message_pk).where(Message.message_id == mid)
                        )
                    if registered:
                        break
                if time.perf_counter() - t0 > 60:
                    raise SystemExit(f"message {i} not registered and notified within 60 s")
                time.sleep(0.005)
            times.append(time.perf_counter() - t0)
        stop.set()
        runner.join(20)
        app.close()
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"{count} complaints, append -> register entry + sender notice accepted ({db}): median {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s")


def backlog(count: int, db: str, profile: bool = False) -> None:
    from sqlalchemy import func, insert, select
    from support.mail import make_mail
    from support.smtp import SmtpSink

    from classifiers.corpus import load_corpus
    from ingest.identity import sha256_hex
    from ingest.parse import parse_message
    from ingest.records import parsed_to_dict
    from klachtwacht.db.models import FINAL_STATES, Message, MessageState, RawBlob, Sighting, utcnow
    from klachtwacht.intake import compress
    from klachtwacht.runtime import App
    from klachtwacht.wiring import build_services

    corpus = load_corpus()
    with tempfile.TemporaryDirectory() as tmp, SmtpSink() as smtp:
        config = _config(fresh_database(db, tmp), 1, smtp.port)
        app = App(config, build_services(config))  # type: ignore[arg-type]
        app.upgrade_schema()
        model = app.services.seams.classifier
        received = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        rows_m, rows_b, rows_s = [], [], []
        examples = [corpus[i % len(corpus)] for i in range(count)]
        judged = model.classify_many((e.subject, e.body, (), 0) for e in examples)
        for i, (example, c) in enumerate(zip(examples, judged)):
            raw = make_mail(example, message_id=f"<backlog-{i}@example.nl>", sender=f"Burger {i} <burger{i}@example.nl>")
            digest = sha256_hex(raw)
            parsed = parse_message(raw)
            rows_b.append({"sha256": digest, "size": len(raw), "data": compress(raw), "stored_at": utcnow()})
            rows_m.append(
                {
                    "id": i + 1, "identity": f"mid:<backlog-{i}@example.nl>", "message_id": f"<backlog-{i}@example.nl>", "blob_sha256": digest,
                    "received_at": received, "state": MessageState.CLASSIFIED, "state_changed_at": utcnow(), "attempts": 0, "created_at": utcnow(),
                    "parsed": parsed_to_dict(parsed), "subject": parsed.subject, "label": c.label, "subtype": c.subtype,
                    "confidence": c.confidence, "scores": c.scores, "reasons": list(c.reasons), "model": c.model, "classification": c.to_dict(),
                }
            )
            rows_s.append({"message_pk": i + 1, "mailbox": "wethouder", "folder": "INBOX", "uidvalidity": 1, "uid": i + 1, "internaldate": received, "blob_sha256": digest, "seen_at": utcnow()})
        with app.sessions.begin() as session:
            session.execute(insert(RawBlob), rows_b)
            session.execute(insert(Message), rows_m)
            session.execute(insert(Sighting), rows_s)
        t0 = time.perf_counter()
        if profile:  # one thread, in order, under cProfile: where the time goes
            import cProfile
            import pstats

            from klachtwacht.pipeline import advance

            profiler = cProfile.Profile()
            profiler.enable()
            for pk in range(1, count + 1):
                advance(app.sessions, app.services, pk)
            profiler.disable()
            seconds = time.perf_counter() - t0
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        else:
            worker = app.worker(threads=2)
            worker.start()
            app.enqueue(list(range(1, count + 1)))
            while True:
                with app.sessions() as session:
                    done = session.scalar(select(func.count()).select_from(Message).where(Message.state.in_(FINAL_STATES)))
                if done >= count:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - t0
            worker.stop()
        with app.sessions() as session:
            by_state = dict(session.execute(select(Message.decision, func.count()).group_by(Message.decision)).all())
        app.close()
    print(f"backlog of {count} classified messages ({db}): decide+register+notify in {seconds:.1f} s = {count / seconds:.0f} messages/s; "
          f"decisions {by_state}; {len(smtp.messages)} mails accepted by the SMTP server")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("latency", "backlog"))
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--profile", action="store_true", help="backlog: one thread under cProfile, print where the time goes")
    args = parser.parse_args()
    if args.mode == "latency":
        latency(args.messages or 200, args.db)
    else:
        backlog(args.messages or 10_000, args.db, args.profile)


if __name__ == "__main__":
    main()
