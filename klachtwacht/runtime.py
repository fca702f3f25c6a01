"""The running application: database, broker, actors and mailbox polling.

Built once from a :class:`Config` at the entry point and passed down. The
same code serves one laptop (SQLite, in-process ``memory://`` broker) and many
hosts (PostgreSQL, Redis or RabbitMQ, a lease per mailbox).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.backoff import Backoff
from ingest.graph import GraphMailbox, poll_graph_mailbox
from ingest.imap import ImapConnection
from ingest.poller import FolderResult, PollResult, poll_folder, poll_mailbox
from ingest.tokens import MsalTokenProvider, StaticTokenProvider, TokenProvider
from klachtwacht import lease
from klachtwacht.config import Config, MailboxConfig
from klachtwacht.db import make_engine, make_sessionmaker, upgrade
from klachtwacht.db.models import FINAL_STATES, Message, MessageState
from klachtwacht.errors import ConfigError, DatabaseUnavailable, KlachtwachtError, RetryableError
from klachtwacht.golive.modes import record_mode_changes
from klachtwacht.intake import DatabaseSink
from klachtwacht.metrics import counters
from klachtwacht.parsepool import ParsePool
from klachtwacht.pipeline import Services, advance, commit_many, parse_result, parse_step
from klachtwacht.transient import GuardedSink, database_errors, is_transient, transient_reason

__all__ = ["App", "make_broker", "token_provider", "run_ingest_once"]

log = logging.getLogger(__name__)

QUEUE = "klachtwacht"
#: Retries of one actor message before it is left to the sweeper.
MAX_RETRIES = 50
MAX_RETRY_BACKOFF_MS = 15 * 60 * 1000


def make_broker(url: str) -> dramatiq.Broker:
    """The broker for ``url``: memory:// (in process), redis:// or amqp://."""
    broker: dramatiq.Broker
    if url.startswith("memory://"):
        broker = StubBroker()
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        raise ConfigError("", "broker.url", f"unsupported broker URL {url!r}")
    broker.add_middleware(CurrentMessage())  # the retry count, for one log line per retry
    # our actors log each retry themselves, with its reason (see App._retrying)
    logging.getLogger("dramatiq.middleware.retries.Retries").setLevel(logging.WARNING)
    return broker


def token_provider(mailbox: MailboxConfig) -> TokenProvider | None:
    """The XOAUTH2 token provider of ``mailbox``, or None for password logins."""
    imap = mailbox.imap
    if imap.auth != "xoauth2":
        return None
    if imap.token is not None:
        return StaticTokenProvider(imap.token.reveal())
    assert imap.tenant_id and imap.client_id and imap.client_secret  # checked by the config loader
    return MsalTokenProvider(imap.tenant_id, imap.client_id, imap.client_secret.reveal())


@dataclass
class App:
    """Everything a process of klachtwacht needs, made once from the configuration."""

    config: Config
    services: Services
    engine: Engine = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)
    broker: dramatiq.Broker = field(init=False)
    holder: str = field(default_factory=lease.holder_id)
    backoff: Backoff = Backoff()
    min_retry_backoff_ms: int = 1000
    queue: str = QUEUE
    _actors: dict[str, dramatiq.Actor[Any, Any]] = field(default_factory=dict, init=False)
    _tokens: dict[str, TokenProvider | None] = field(default_factory=dict, init=False)
    _pool: ParsePool | None = field(default=None, init=False)
    _graph: dict[str, GraphMailbox] = field(default_factory=dict, init=False)
    _graph_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.config.database.url)
        self.sessions = make_sessionmaker(self.engine)
        self.broker = make_broker(self.config.broker.url)
        self._declare_actors()

    # -- set-up -------------------------------------------------------------
    def upgrade_schema(self) -> None:
        """Create or migrate the schema (idempotent)."""
        upgrade(self.engine)

    def _declare_actors(self) -> None:
        retry = dict(
            max_retries=MAX_RETRIES,
            min_backoff=self.min_retry_backoff_ms,
            max_backoff=MAX_RETRY_BACKOFF_MS,
            retry_when=lambda retries, exc: isinstance(exc, (dramatiq.Retry, RetryableError)) and retries < MAX_RETRIES,
        )

        def advance_message(message_pk: int) -> None:
            with self._retrying(f"message {message_pk}"):
                advance(self.sessions, self.services, message_pk)

        def poll(mailbox: str) -> None:
            with self._retrying(f"mailbox {mailbox}"):
                self.poll(self.config.mailbox(mailbox))

        def sweep() -> None:
            self.sweep()

        for fn, name in ((advance_message, "advance"), (poll, "poll"), (sweep, "sweep")):
            self._actors[name] = dramatiq.actor(fn, actor_name=f"kw.{name}", queue_name=self.queue, broker=self.broker, **retry)  # type: ignore[call-overload]

    @contextmanager
    def _retrying(self, what: str) -> Iterator[None]:
        """A passing error (the database away, a server busy) becomes one log line and a later retry, not a traceback."""
        try:
            with database_errors(""):
                yield
        except RetryableError as exc:
            current = CurrentMessage.get_current_message()
            retries = int(current.options.get("retries", 0)) if current is not None else 0
            if retries >= MAX_RETRIES:
                log.error("%s: %s; giving up after %d retries (the sweeper tries again later)", what, exc, retries)
                raise
            planned = self.min_retry_backoff_ms * 2 ** min(retries, 20)
            delay_ms = int(min(MAX_RETRY_BACKOFF_MS, max(planned, (exc.retry_after or 0) * 1000)))
            log.warning("%s: %s; retry %d, next attempt in %.0f s", what, exc, retries + 1, delay_ms / 1000)
            raise dramatiq.Retry(str(exc), delay=delay_ms) from exc

    def enqueue(self, message_pks: list[int]) -> None:
        """Ask a worker to advance each message."""
        for pk in message_pks:
            self._actors["advance"].send(pk)

    def worker(self, threads: int = 4) -> dramatiq.Worker:
        """A dramatiq worker for this broker (started by the caller)."""
        return dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)

    # -- work ---------------------------------------------------------------
    def connection(self, mailbox: MailboxConfig) -> ImapConnection:
        """A not-yet-connected IMAP connection for ``mailbox``."""
        if mailbox.name not in self._tokens:
            self._tokens[mailbox.name] = token_provider(mailbox)
        return ImapConnection(mailbox.imap, tokens=self._tokens[mailbox.name], label=mailbox.name)

    def graph_source(self, mailbox: MailboxConfig) -> GraphMailbox:
        """The Graph source of ``mailbox`` (``[mailboxes.graph]``), made once and shared by its folders."""
        from klachtwacht.graphbox import graph_mailbox

        with self._graph_lock:
            if mailbox.name not in self._graph:
                self._graph[mailbox.name] = graph_mailbox(mailbox)
            return self._graph[mailbox.name]

    def poll(
        self,
        mailbox: MailboxConfig,
        sleep: Callable[[float], object] = time.sleep,
        seen: list[int] | None = None,
    ) -> PollResult | None:
        """One poll of ``mailbox`` under its lease; None when another process holds the lease.

        New messages are enqueued; their ids are also added to ``seen`` when given.
        """
        lease_name = f"poll:{mailbox.name}"
        with database_errors(f"mailbox {mailbox.name}: lease"):
            taken = lease.acquire(self.sessions, lease_name, self.holder, self.config.ingest.lease_seconds)
        if not taken:
            log.info("mailbox %s: another poller holds the lease", mailbox.name)
            return None
        try:
            sink = self.sink(mailbox, seen)
            if mailbox.graph is not None:
                result = poll_graph_mailbox(
                    mailbox.name, self.graph_source(mailbox), mailbox.folders, sink, batch_size=self.config.ingest.batch_size, backoff=self.backoff, sleep=sleep
                )
            else:
                result = poll_mailbox(
                    mailbox.name,
                    self.connection(mailbox),
                    mailbox.folders,
                    sink,
                    batch_size=self.config.ingest.batch_size,
                    batch_bytes=self.config.ingest.batch_bytes,
                    backoff=self.backoff,
                    sleep=sleep,
                )
            inner = sink.sink
            result.seen_again = inner.seen_again if isinstance(inner, DatabaseSink) else 0
            return result
        finally:
            self.release_lease(lease_name)

    def sink(self, mailbox: MailboxConfig, seen: list[int] | None = None) -> GuardedSink:
        """Where ``mailbox``'s fetched mail is stored; new messages are enqueued (and added to ``seen``)."""

        def on_new(pks: list[int]) -> None:
            if seen is not None:
                seen.extend(pks)
            self.enqueue(pks)

        lease_name = f"poll:{mailbox.name}"
        sink = DatabaseSink(self.sessions, mailbox.name, on_new=on_new, on_batch=self._lease_renewer(lease_name), on_stored=self._parse_stored)
        return GuardedSink(sink, mailbox.name)

    def poll_folder(self, mailbox: MailboxConfig, folder: str, conn: ImapConnection, sink: GuardedSink) -> FolderResult | None:
        """Poll one folder over the open ``conn`` under the mailbox's lease (kept, not released: the watcher holds it).

        None when another process holds the lease. Raises
        :class:`DatabaseUnavailable`, :class:`MailboxUnavailable` or
        :class:`FolderMissing` for the caller to wait and retry.
        """
        with database_errors(f"mailbox {mailbox.name}: folder {folder!r}: lease"):
            taken = lease.acquire(self.sessions, f"poll:{mailbox.name}", self.holder, self.config.ingest.lease_seconds)
        if not taken:
            return None
        out = FolderResult(folder)
        poll_folder(conn, folder, sink, out, self.config.ingest.batch_size, self.config.ingest.batch_bytes)
        return out

    def _lease_renewer(self, lease_name: str) -> Callable[[], None]:
        """Renew ``lease_name`` now and then (a long first poll outlives the lease otherwise)."""
        renewed = [time.monotonic()]

        def renew() -> None:
            if time.monotonic() - renewed[0] <= self.config.ingest.lease_seconds / 3:
                return
            renewed[0] = time.monotonic()  # also after a failure: the next try comes a third of the lease later
            try:
                lease.acquire(self.sessions, lease_name, self.holder, self.config.ingest.lease_seconds)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("lease %s: not renewed, database unavailable (%s); trying again later", lease_name, transient_reason(exc))

        return renew

    def release_lease(self, lease_name: str) -> None:
        """Give ``lease_name`` back; with the database away it simply expires."""
        try:
            lease.release(self.sessions, lease_name, self.holder)
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("lease %s: not released, database unavailable (%s); it expires by itself", lease_name, transient_reason(exc))

    def _pool_model(self) -> str | None:
        """The folder of the model the flow classifies with, when the pool may classify for it (the flow's own step, a loaded model)."""
        from classifiers.classifier import Classifier

        flow = self.services.flow
        if flow is None or self.services.steps.get(MessageState.PARSED) != flow.classify:
            return None
        classifier = flow.seams.classifier
        return str(classifier.directory) if isinstance(classifier, Classifier) and classifier.directory is not None else None

    def _parse_stored(self, stored: list[tuple[int, bytes, str | None]]) -> list[int] | None:
        """Parse (and classify) a just-stored batch at once (see :mod:`klachtwacht.parsepool`); return the messages with work left."""
        if self.services.steps.get(MessageState.FETCHED) is not parse_step:
            return None
        if self._pool is None:
            # the poller's own process counts as one: it does the database and the outside calls meanwhile
            self._pool = ParsePool(self.config.ingest.parse_processes - 1, self._pool_model())
        pooled = self._pool.parse([raw for _, raw, _ in stored])
        if pooled is None:
            return None
        actor = f"ingest:{self.holder}"
        results = [(pk, MessageState.FETCHED, parse_result(p.outcome, mid)) for (pk, _, mid), p in zip(stored, pooled)]
        last = {pk: result.to_state for pk, _, result in results}
        try:
            parsed = set(commit_many(self.sessions, results, actor=actor))
            flow = self.services.flow  # a pool classifies only for a flow (see _pool_model)
            classified = [(pk, p.classification, p.seconds) for (pk, _, _), p in zip(stored, pooled) if p.classification is not None and pk in parsed]
            if classified and flow is not None:
                steps = [(pk, MessageState.PARSED, flow.classified(c)) for pk, c, _ in classified]
                for pk in commit_many(self.sessions, steps, actor=actor):
                    last[pk] = MessageState.CLASSIFIED
                for _, _, seconds in classified:
                    counters.CLASSIFY_SECONDS.observe(seconds)
        except Exception as exc:
            if not is_transient(exc):
                raise
            # the raw bytes are committed; the workers take these messages from wherever they are
            log.warning("parsed batch of %d not stored, database unavailable (%s); left to the workers", len(stored), transient_reason(exc))
            return None
        return [pk for pk, state in last.items() if state in self.services.steps]

    def unfinished(self, older_than: float = 0.0) -> list[int]:
        """Messages not in a final state whose state is older than ``older_than`` seconds."""
        from klachtwacht.db.models import utcnow

        cutoff = utcnow() - timedelta(seconds=older_than)
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Message.id).where(Message.state.not_in(FINAL_STATES), Message.state_changed_at <= cutoff).order_by(Message.id)
                )
            )

    def sweep(self, older_than: float | None = None) -> int:
        """Re-enqueue every message stuck outside a final state; return how many.

        Raises :class:`DatabaseUnavailable` when the database is away.
        """
        with database_errors("sweeper"):
            stuck = self.unfinished(self.config.ingest.stuck_after if older_than is None else older_than)
        if stuck:
            log.warning("sweeper: re-enqueueing %d unfinished messages", len(stuck))
            self.enqueue(stuck)
        return len(stuck)

    def wait_final(self, message_pks: list[int], timeout: float, poll_every: float = 0.05) -> list[int]:
        """Wait until each message rests in a final state; return those that did not in time."""
        deadline = time.monotonic() + timeout
        pending = set(message_pks)
        while pending:
            try:
                # the same statement every time (no list of ids, whose length would make each query a new one to
                # prepare and cache): the messages of the pass's id range that are not at rest
                with self.sessions() as session:
                    busy = session.scalars(
                        select(Message.id).where(Message.id.between(min(pending), max(pending)), Message.state.not_in(FINAL_STATES))
                    )
                    pending.intersection_update(busy)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("waiting for %d messages: database unavailable (%s); asking again in 1 s", len(pending), transient_reason(exc))
                time.sleep(max(poll_every, 1.0))
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, poll_every * (1 + len(pending) // 100)))  # a long backlog is asked after less often
        return sorted(pending)

    def state_counts(self) -> dict[str, int]:
        with database_errors("state counts"), self.sessions() as session:
            return {state: n for state, n in session.execute(select(Message.state, func.count()).group_by(Message.state))}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        for source in self._graph.values():
            source.client.close()
        try:
            self.broker.close()
        except Exception:  # closing a broker that never connected
            pass
        self.engine.dispose()


def check_processes(app: App, processes: int) -> None:
    """Refuse more than one worker process on the in-process broker, which other processes cannot reach."""
    if processes < 1:
        raise ConfigError(app.config.path, "--processes", "must be 1 or more")
    if processes > 1 and app.config.broker.url.startswith("memory://"):
        raise ConfigError(
            app.config.path, "broker.url",
            f"--processes {processes} needs a broker the processes share (redis://... or amqp://...); memory:// works inside one process only",
        )


def start_worker_processes(app: App, count: int, threads: int) -> list[Any]:
    """Start ``count`` more worker processes (``klachtwacht worker`` on the same configuration); they end with this one."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    argv = ["--config", app.config.path, "worker", "--threads", str(threads)]
    children = []
    for n in range(count):
        child = context.Process(target=_worker_process_main, args=(argv, os.getpid()), name=f"klachtwacht-worker-{n + 2}", daemon=False)
        child.start()
        children.append(child)
    log.info("started %d more worker processes: %s", count, ", ".join(str(c.pid) for c in children))
    return children


def stop_worker_processes(children: list[Any], timeout: float = 30.0) -> None:
    """Ask each child to finish (SIGTERM: its current messages end first), then make sure it is gone."""
    for child in children:
        if child.is_alive():
            child.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        child.join(max(0.1, deadline - time.monotonic()))
        if child.is_alive():
            log.warning("worker process %s did not stop in %.0f s; killing it", child.pid, timeout)
            child.kill()
            child.join(5)


def _worker_process_main(argv: list[str], parent_pid: int) -> None:
    from klachtwacht.cli import main
    from klachtwacht.parsepool import die_with_parent

    die_with_parent(parent_pid)
    raise SystemExit(main(argv))


def run_ingest_once(app: App, threads: int = 2, processes: int = 1) -> dict[str, Any]:
    """One pass over every mailbox; returns when each fetched message rests (or the wait ran out).

    With ``processes`` > 1, that many worker processes in all share the work
    through the configured broker (Redis or RabbitMQ; see :func:`check_processes`).
    """
    check_processes(app, processes)
    record_mode_changes(app.sessions, app.config)
    worker = app.worker(threads)
    worker.start()
    children = start_worker_processes(app, processes - 1, threads) if processes > 1 else []
    try:
        recovered = app.unfinished()
        if recovered:
            app.enqueue(recovered)
        mailboxes = []
        new_ids: list[int] = list(recovered)
        for mailbox in app.config.mailboxes:
            entry: dict[str, Any] = {"name": mailbox.name}
            try:
                result = app.poll(mailbox, seen=new_ids)
            except KlachtwachtError as exc:
                log.error("mailbox %s: %s", mailbox.name, exc)
                entry.update(fetched=0, new=0, seen_again=0, errors=[str(exc)], reconnects=0)
                mailboxes.append(entry)
                continue
            if result is None:
                entry.update(fetched=0, new=0, seen_again=0, errors=["another poller holds the lease"], reconnects=0)
            else:
                entry.update(fetched=result.fetched, new=result.new, seen_again=result.seen_again, errors=result.errors, reconnects=result.reconnects)
            mailboxes.append(entry)
        new_ids = sorted(set(new_ids))
        not_final = app.wait_final(new_ids, app.config.ingest.wait_timeout)
    finally:
        stop_worker_processes(children)
        worker.stop()
    return {
        "mailboxes": mailboxes,
        "new_messages": len(new_ids),
        "not_final": len(not_final),
        "states": app.state_counts(),
    }



def run_service(app: App, parts: tuple[str, ...], threads: int = 4, stop: threading.Event | None = None, processes: int = 1) -> int:
    """Run the chosen parts (``watch``, ``worker``, ``schedule``) until SIGTERM/SIGINT or ``stop``.

    With ``processes`` > 1 and a worker among the parts, that many worker
    processes in all (this one and children that end with it) share the work.

    Every watcher and the sweeper run in supervised threads: one that ends
    is logged with its reason and started again (see :mod:`klachtwacht.supervisor`).
    A dramatiq worker whose threads died is replaced the same way.
    """
    import signal

    from klachtwacht.supervisor import Supervisor
    from klachtwacht.watcher import watch_folder

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    worker = None
    children: list[Any] = []
    if "worker" in parts:
        check_processes(app, processes)
        worker = app.worker(threads)
        worker.start()
        children = start_worker_processes(app, processes - 1, threads) if processes > 1 else []
    elif app.config.broker.url.startswith("memory://"):
        log.warning("the memory:// broker only works inside one process: run 'klachtwacht run' or configure Redis/RabbitMQ")
    metrics = None
    if app.config.metrics.listen:
        from klachtwacht.metrics.server import MetricsServer

        metrics = MetricsServer(app.sessions, app.config.metrics.listen).start()
    supervisor = Supervisor(stop)
    if "watch" in parts:
        record_mode_changes(app.sessions, app.config)
        for mailbox in app.config.mailboxes:
            for folder in mailbox.folders:  # one watcher, one connection, per folder
                supervisor.add(f"watch-{mailbox.name}:{folder}", lambda m=mailbox, f=folder: watch_folder(app, m, f, stop))  # type: ignore[misc]
    if "schedule" in parts:
        supervisor.add("sweeper", lambda: _sweep_forever(app, stop))
        supervisor.add("nightly", lambda: _reconcile_nightly(app, stop))
    log.info("klachtwacht running: %s", ", ".join(parts))
    try:
        while not stop.wait(0.5):
            supervisor.check()
            if worker is not None and not _worker_alive(worker):
                log.error("worker threads stopped; starting a new worker")
                worker.stop(timeout=1000)
                worker = app.worker(threads)
                worker.start()
    finally:
        stop.set()
        if metrics is not None:
            metrics.close()
        stop_worker_processes(children)
        supervisor.join(timeout=10)
        if worker is not None:
            worker.stop()
    return 0


def _worker_alive(worker: dramatiq.Worker) -> bool:
    threads = [*worker.workers, *worker.consumers.values()]
    return all(t.is_alive() for t in threads)


def _reconcile_nightly(app: App, stop: threading.Event, every: float = 60.0) -> None:
    """The nightly reconciliation: each tick runs the nights that are due (see klachtwacht.reconcile.schedule).

    The scheduler's lease and its claim per night keep two hosts (or a
    restart) from running a night twice; a night missed while klachtwacht
    was down is caught up at the first tick after it comes back.
    """
    from klachtwacht.reconcile.schedule import NightlyScheduler

    scheduler = NightlyScheduler(app)
    while not stop.is_set():
        try:
            with database_errors("nightly reconciliation"):
                scheduler.tick()
        except DatabaseUnavailable as exc:
            log.warning("%s; next try in %.0f s", exc, every)
        stop.wait(every)


def _sweep_forever(app: App, stop: threading.Event, every: float = 60.0) -> None:
    """The sweeper: re-enqueue stuck messages every ``every`` seconds; a database away is waited for."""
    while not stop.is_set():
        try:
            app.sweep()
        except DatabaseUnavailable as exc:
            log.warning("sweeper: %s; next sweep in %.0f s", exc, every)
        stop.wait(every)
