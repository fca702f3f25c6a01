"""Review app benchmark: server time of the queue page and the message page with 10,000 messages in review.

    python bench/bench_review.py [--messages 10000] [--requests 200] [--database URL]

Stores one real message through the flow, copies it into ``--messages``
messages waiting in two mailboxes, signs a secretary in, and times the
queue page (first page, a middle page, one mailbox) and message pages in
process (Starlette's TestClient, so the figure is the app's own time plus a
little client overhead). Targets: queue p95 < 200 ms, message p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TOML = """
[database]
url = "{url}"
[ingest]
start = "2020-01-01"
[smtp]
sender = "klachten@gemeente-veenstad.nl"
[[mailboxes]]
name = "wethouder-devries"
role = "wethouder"
address = "wethouder@gemeente-veenstad.nl"
[mailboxes.imap]
host = "127.0.0.1"
username = "wethouder"
password_env = "KW_PW"
[[mailboxes]]
name = "griffie"
role = "raad"
address = "griffie@gemeente-veenstad.nl"
[mailboxes.imap]
host = "127.0.0.1"
username = "griffie"
password_env = "KW_PW"
"""


def _fill(sessions: object, template_pk: int, count: int) -> list[int]:
    from sqlalchemy import insert, select

    from klachtwacht.db.models import Message, Sighting, Transition

    with sessions.begin() as session:  # type: ignore[attr-defined]
        template = session.get(Message, template_pk)
        columns = {c.key: getattr(template, c.key) for c in Message.__table__.columns if c.key != "id"}
        start = datetime.now(timezone.utc) - timedelta(days=40)
        rows = []
        for i in range(count - 1):
            row = dict(columns)
            row.update(identity=f"bench:{i}", message_id=f"<bench-{i}@example.nl>", subject=f"Bericht {i}",
                       received_at=start + timedelta(minutes=5 * i), state_changed_at=start)
            rows.append(row)
        for chunk in range(0, len(rows), 1000):
            session.execute(insert(Message), rows[chunk:chunk + 1000])
        ids = [pk for pk in session.scalars(select(Message.id).where(Message.identity.like("bench:%")).order_by(Message.id))]
        sightings, history = [], []
        for n, pk in enumerate(ids):
            sightings.append(dict(message_pk=pk, mailbox="wethouder-devries" if n % 3 else "griffie", folder="INBOX", uidvalidity=7, uid=n + 1,
                                  internaldate=start, blob_sha256=template.blob_sha256, seen_at=start))
            history.append(dict(message_pk=pk, from_state="classified", to_state="review", at=start, actor="worker", reason="bench"))
        for chunk in range(0, len(ids), 1000):
            session.execute(insert(Sighting), sightings[chunk:chunk + 1000])
            session.execute(insert(Transition), history[chunk:chunk + 1000])
    return [template_pk, *ids]


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", help="a postgresql+psycopg:// URL of an empty database (default: SQLite in a temporary folder)")
    args = parser.parse_args()

    from starlette.testclient import TestClient
    from support.mail import make_mail

    from ingest.cursor import Cursor
    from ingest.imap import FetchedMessage
    from klachtwacht.config import load_config
    from klachtwacht.db import make_engine, make_sessionmaker, upgrade
    from klachtwacht.doubles import FixedClassifier
    from klachtwacht.intake import DatabaseSink
    from klachtwacht.pipeline import advance
    from klachtwacht.web.accounts import add_user
    from klachtwacht.web.app import create_app
    from klachtwacht.web.passwords import cheap_hasher
    from klachtwacht.wiring import build_services

    folder = Path(tempfile.mkdtemp(prefix="kw-bench-review-"))
    url = args.database or f"sqlite:///{folder / 'kw.db'}"
    path = folder / "klachtwacht.toml"
    path.write_text(TOML.format(url=url), encoding="utf-8")
    config = load_config(path, env={"KW_PW": "x"})
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    services = build_services(config, FixedClassifier("klacht", p=0.5))
    sink = DatabaseSink(sessions, "wethouder-devries")
    raw = make_mail(subject="Klacht", body="De medewerker was onbeschoft tegen mij aan de balie. " * 20, sender="ria@example.nl", message_id="<t@example.nl>")
    sink.store_batch("INBOX", Cursor(uidvalidity=1, last_uid=1), [FetchedMessage(1, datetime.now(timezone.utc) - timedelta(days=41), raw)])
    template = sink.new_message_ids[0]
    assert advance(sessions, services, template) == "review"
    t0 = time.perf_counter()
    ids = _fill(sessions, template, args.messages)
    print(f"{len(ids)} messages in review ({url.split(':')[0]}), stored in {time.perf_counter() - t0:.1f} s")
    hasher = cheap_hasher()
    add_user(sessions, config, hasher, "ria", "een-lang-wachtwoord", role="secretaris", mailboxes=("wethouder-devries", "griffie"))
    client = TestClient(create_app(config, sessions, services, hasher=hasher, kick=lambda pk: None), follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    assert client.post("/login", data={"username": "ria", "password": "een-lang-wachtwoord", "csrf_token": token.group(1)}).status_code == 303
    pages = ["/", "/?pagina=100", "/?postbus=griffie", "/?postbus=wethouder-devries&pagina=50"]
    rng = random.Random(1)
    for name, paths, target in (
        ("queue page", [pages[i % len(pages)] for i in range(args.requests)], 0.200),
        ("message page", [f"/berichten/{rng.choice(ids)}" for _ in range(args.requests)], 0.100),
    ):
        client.get(paths[0])  # warm-up
        times = []
        for p in paths:
            t1 = time.perf_counter()
            response = client.get(p)
            times.append(time.perf_counter() - t1)
            assert response.status_code == 200, (p, response.status_code)
        p95 = _p95(times)
        verdict = "ok" if p95 < target else "ABOVE TARGET"
        print(f"{name}: median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms over {len(times)} requests "
              f"(target < {target * 1000:.0f} ms: {verdict})")
    engine.dispose()


if __name__ == "__main__":
    main()
