"""Graph benchmark: the first sync of a folder of 50,000 messages from our own Graph server.

    python bench/bench_graph.py [--messages 50000] [--page 100] [--concurrency 4]

Three processes, so each peak memory is its own:

- the server (tests/support/graph_server.py) holds the folder, ~3 KB per message
  made on request, over loopback TLS;
- pages only: the delta walked from the first page to the deltaLink, nothing fetched:
  the server's own page rate, the ceiling of any client;
- first sync: klachtwacht's Graph source into the database sink on SQLite
  (``$value`` of every message, raw bytes stored with their sightings and the
  cursor per batch; no parsing), then a second pass that must fetch nothing.

Prints seconds, messages and pages per second, and the peak RSS of each client.
Nothing here talks to the real Graph service: its throttling (10,000 requests per
10 minutes per app and mailbox) would make a real first sync of 50,000 messages
take at least 50 minutes, whatever the client.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

USER = "burgemeester@veenstad.nl"
BODY = ("Geachte burgemeester, ik schrijf u over de gang van zaken bij de gemeente. " * 30).encode()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _raw(i: int) -> bytes:
    return (
        b"From: Burger %d <burger%d@example.nl>\r\nTo: burgemeester@veenstad.nl\r\nSubject: Bericht %d\r\n"
        b"Message-ID: <bench-%d@example.nl>\r\nDate: Mon, 05 Jan 2026 08:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" % (i, i, i, i)
    ) + BODY + b"\r\n%d\r\n" % i


def serve(count: int, queue: Any, stop: Any) -> None:
    from support.graph_server import GraphServer

    with GraphServer(users=(USER,)) as server:
        started = time.monotonic()
        for i in range(count):
            server.add(USER, "inbox", lambda i=i: _raw(i), internet_message_id=f"<bench-{i}@example.nl>")
        queue.put({"url": server.url, "endpoint": server.endpoint, "ca_file": str(server.ca_file), "fill_s": time.monotonic() - started})
        stop.wait()


def _source(info: dict[str, Any], concurrency: int) -> Any:
    from support.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT

    from ingest.graph import GRAPH_SCOPE, GraphClient, GraphMailbox
    from ingest.tokens import MsalTokenProvider

    tokens = MsalTokenProvider(TENANT, CLIENT_ID, CLIENT_SECRET, scope=GRAPH_SCOPE, authority=info["url"], verify=info["ca_file"])
    return GraphMailbox(GraphClient(info["endpoint"], tokens, verify=info["ca_file"], concurrency=concurrency), USER)


def pages_only(info: dict[str, Any], page: int, out: Any) -> None:
    from ingest.graph.delta import pages

    source = _source(info, 1)
    started = time.monotonic()
    count = items = 0
    for delta in pages(source.client, source.first_link("inbox"), page):
        count += 1
        items += len(delta.items)
    out.put({"seconds": time.monotonic() - started, "pages": count, "items": items, "peak_rss_mb": peak_rss_mb()})


def first_sync(info: dict[str, Any], page: int, concurrency: int, out: Any) -> None:
    from ingest.graph import poll_graph_mailbox
    from klachtwacht.db import make_engine, make_sessionmaker, upgrade
    from klachtwacht.intake import DatabaseSink

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sink = DatabaseSink(make_sessionmaker(engine), "burgemeester")
        source = _source(info, concurrency)
        baseline = peak_rss_mb()
        started = time.monotonic()
        result = poll_graph_mailbox("burgemeester", source, ("inbox",), sink, batch_size=page)
        seconds = time.monotonic() - started
        requests_first = source.client.requests
        again_started = time.monotonic()
        again = poll_graph_mailbox("burgemeester", source, ("inbox",), sink, batch_size=page)
        out.put({"seconds": seconds, "fetched": result.fetched, "new": result.new, "requests": requests_first,
                 "second_pass_fetched": again.fetched, "second_pass_seconds": time.monotonic() - again_started,
                 "baseline_rss_mb": baseline, "peak_rss_mb": peak_rss_mb(), "db_mb": Path(f"{tmp}/bench.db").stat().st_size / 2**20})
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--page", type=int, default=100, help="delta page size (odata.maxpagesize) and batch size")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(args.messages, queue, stop), daemon=True)
    server.start()
    try:
        info = queue.get(timeout=600)
        print(f"server: {args.messages} messages in the folder (filled in {info['fill_s']:.1f} s)")
        runs = {}
        for name, target, extra in (("pages only", pages_only, (args.page,)), ("first sync", first_sync, (args.page, args.concurrency))):
            out = context.Queue()
            child = context.Process(target=target, args=(info, *extra, out))
            child.start()
            runs[name] = out.get(timeout=3600)
            child.join()
        p, f = runs["pages only"], runs["first sync"]
        print(f"pages only: {p['pages']} pages of {args.page}, {p['items']} entries in {p['seconds']:.1f} s = {p['pages'] / p['seconds']:.0f} pages/s "
              f"({p['items'] / p['seconds']:.0f} entries/s); peak RSS {p['peak_rss_mb']:.0f} MB")
        print(f"first sync: {f['fetched']} fetched, {f['new']} new, {f['requests']} requests in {f['seconds']:.1f} s = {f['fetched'] / f['seconds']:.0f} messages/s; "
              f"peak RSS {f['peak_rss_mb']:.0f} MB (after start-up {f['baseline_rss_mb']:.0f} MB); database {f['db_mb']:.0f} MB")
        print(f"second pass: {f['second_pass_fetched']} fetched in {f['second_pass_seconds']:.2f} s")
        print(json.dumps({"messages": args.messages, "page": args.page, "concurrency": args.concurrency, **{k.replace(" ", "_"): v for k, v in runs.items()}}))
    finally:
        stop.set()
        server.join(10)


if __name__ == "__main__":
    main()
