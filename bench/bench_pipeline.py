"""Whole-pipeline benchmark: ``klachtwacht ingest --once`` against a bare fetch-and-parse.

    python bench/bench_pipeline.py [--messages 10000] [--db sqlite|postgresql] [--processes N] [--parse-processes N]
                                   [--big-attachment-mb 40] [--py-spy FILE.svg]

The backlog of ``bench_ingest.py`` (realistic corpus mail, 2 KB to 200 KB, a
fifth with attachments) is spread over three Dovecot mailboxes. In the same
run, each in a process of its own:

- bare: IMAPClient read-only fetch of BODY.PEEK[] plus mail-parser on every
  message, nothing stored (``bench_ingest.py --phase bare``);
- whole: the ``klachtwacht ingest --once`` command, as a user runs it: fetch,
  store, parse, classify, decide, register (database backend) and notify
  through a real SMTP server (aiosmtpd on loopback), with the going-live
  guards off so that every message is new.

Prints messages per second, the ratio whole/bare, the peak RSS of the
command's process tree (summed over the parse pool and worker processes,
sampled every 0.1 s) and of its largest process, and what the SMTP server
received. ``--processes 2`` needs ``--db postgresql`` (it uses Redis as the
broker). ``--py-spy FILE`` records a flame graph of the command (needs
``pip install py-spy``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bench_flow import fresh_database  # noqa: E402
from bench_ingest import PASSWORD, USERS, big_message, build_messages  # noqa: E402

KLACHTWACHT = str(Path(sys.executable).with_name("klachtwacht"))


def _tree_rss_kb(root: int) -> tuple[int, int]:
    """(sum, largest) VmRSS in kB of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, largest, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        todo.extend(children.get(pid, []))
    return total, largest


class TreeMemory(threading.Thread):
    """Samples the RSS of a process tree until stopped."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_sum_kb = self.peak_one_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            total, largest = _tree_rss_kb(self.pid)
            self.peak_sum_kb = max(self.peak_sum_kb, total)
            self.peak_one_kb = max(self.peak_one_kb, largest)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def config_text(db_url: str, broker: str, imap_port: int, smtp_port: int, parse_processes: int | None = None) -> str:
    lines = [
        "[database]", f'url = "{db_url}"',
        "[broker]", f'url = "{broker}"',
        "[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'sender = "klachten@gemeente-veenstad.nl"',
        "[register]", 'backend = "database"',
        "[ingest]", "start = 2000-01-01", "max_age_days = 0", "wait_timeout = 3600",
        *([f"parse_processes = {parse_processes}"] if parse_processes else []),
        "[[organisations]]", 'name = "veenstad"', 'display_name = "Gemeente Veenstad"',
        'complaints_team = "de klachtencoördinator"', 'complaints_address = "klachten@gemeente-veenstad.nl"',
        'bezwaar_address = "bezwaar@gemeente-veenstad.nl"', 'woo_address = "woo@gemeente-veenstad.nl"',
        'phone = "14 0555"', 'website = "https://www.gemeente-veenstad.nl/klacht"',
    ]
    for user in USERS:
        lines += [
            "[[mailboxes]]", f'name = "{user}"', 'role = "wethouder"', f'address = "{user}@gemeente-veenstad.nl"',
            'organisation = "veenstad"', f'secretary = "secretariaat.{user}@gemeente-veenstad.nl"',
            "[mailboxes.imap]", 'host = "127.0.0.1"', f"port = {imap_port}", 'security = "none"',
            f'username = "{user}"', 'password_env = "KW_BENCH_PW"',
        ]
    return "\n".join(lines) + "\n"


def _outcome(db_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, func, select

    from klachtwacht.db.models import Message, RegisterEntry

    engine = create_engine(db_url)
    with engine.connect() as conn:
        states = dict(conn.execute(select(Message.state, func.count()).group_by(Message.state)).all())
        entries = conn.scalar(select(func.count()).select_from(RegisterEntry)) or 0
    engine.dispose()
    return {**{f"state {k}": v for k, v in sorted(states.items())}, "register entries": entries}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--parse-processes", type=int, default=None, help="[ingest] parse_processes (default: the configuration's default; 1: no helper process)")
    parser.add_argument("--big-attachment-mb", type=float, default=0.0)
    parser.add_argument("--py-spy", metavar="FILE", help="record a profile of the whole run into FILE (.svg flame graph, .json speedscope, .txt collapsed stacks)")
    parser.add_argument("--skip-bare", action="store_true", help="time only the whole pipeline")
    args = parser.parse_args()
    if args.processes > 1 and args.db != "postgresql":
        parser.error("--processes > 1 needs --db postgresql (and Redis as the broker)")

    from support.dovecot import Dovecot
    from support.smtp import SmtpSink

    messages = build_messages(args.messages)
    if args.big_attachment_mb:
        messages.append(big_message(int(args.big_attachment_mb * 1e6)))
    sizes = sorted(len(m) for m in messages)
    print(f"{len(messages)} messages, {sum(sizes) / 1e6:.0f} MB, median {sizes[len(sizes) // 2] / 1e3:.0f} KB, max {sizes[-1] / 1e3:.0f} KB", flush=True)
    dovecot = Dovecot()
    for user in USERS:
        dovecot.add_user(user, PASSWORD)
    dovecot.start()
    sink = SmtpSink()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "KW_BENCH_PW": PASSWORD}
    try:
        for i, user in enumerate(USERS):
            dovecot.fast_fill(user, "INBOX", messages[i::3])
        del messages
        with tempfile.TemporaryDirectory() as tmp:
            bare_seconds = None
            if not args.skip_bare:
                t0 = time.perf_counter()
                subprocess.run([sys.executable, str(ROOT / "bench" / "bench_ingest.py"), "--phase", "bare", "--port", str(dovecot.port)],
                               env=env, check=True, capture_output=True)
                bare_seconds = time.perf_counter() - t0
                print(f"bare fetch+parse: {len(sizes)} messages in {bare_seconds:.1f} s = {len(sizes) / bare_seconds:.0f} msg/s", flush=True)
            db_url = fresh_database(args.db, tmp, "kw_bench_pipeline")
            broker = "memory://" if args.processes == 1 else "redis://127.0.0.1:6379/9"
            if args.processes > 1:
                subprocess.run(["redis-cli", "-n", "9", "FLUSHDB"], check=True, capture_output=True)
            config = Path(tmp) / "klachtwacht.toml"
            config.write_text(config_text(db_url, broker, dovecot.port, sink.port, args.parse_processes), encoding="utf-8")
            subprocess.run([KLACHTWACHT, "db", "upgrade", "--config", str(config)], env=env, check=True, capture_output=True)
            command = [KLACHTWACHT, "ingest", "--once", "--json", "--config", str(config), "--processes", str(args.processes)]
            if args.py_spy:
                command = ["py-spy", "record", "--subprocesses", "--gil", "--rate", "50", "--format", {".json": "speedscope", ".txt": "raw"}.get(Path(args.py_spy).suffix, "flamegraph"),
                           "-o", args.py_spy, "--", *command]
            log_path = Path(tmp) / "ingest.log"
            t0 = time.perf_counter()
            with log_path.open("wb") as log_file:
                process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log_file)
                memory = TreeMemory(process.pid)
                memory.start()
                out, _ = process.communicate()
                memory.stop()
            seconds = time.perf_counter() - t0
            if process.returncode:
                sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
                raise SystemExit(f"ingest --once exited {process.returncode}")
            outcome = _outcome(db_url)
            log_lines = len(log_path.read_text(errors="replace").splitlines())
    finally:
        sink.close()
        dovecot.close()
    letters = len(sink.messages)
    helpers = f", parse_processes {args.parse_processes}" if args.parse_processes else ""
    print(f"whole pipeline ({args.db}, {args.processes} process{'es' if args.processes > 1 else ''}{helpers}): {len(sizes)} messages in {seconds:.1f} s = {len(sizes) / seconds:.0f} msg/s")
    if bare_seconds:
        print(f"ratio whole/bare: {seconds / bare_seconds:.2f}x")
    print(f"peak RSS of the process tree {memory.peak_sum_kb / 1024:.0f} MB (largest process {memory.peak_one_kb / 1024:.0f} MB)")
    print(f"SMTP server received {letters} letters; {log_lines} log lines")
    print(", ".join(f"{k}: {v}" for k, v in outcome.items()))
    print(f"summary: {out.decode(errors='replace').strip()[:600]}")


if __name__ == "__main__":
    main()
