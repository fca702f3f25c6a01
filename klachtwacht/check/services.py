"""Checks of the servers klachtwacht depends on: database, broker, SMTP, register.

Each check connects once, with a short time-out, never retries, and sends or
writes nothing: the SMTP server sees EHLO, STARTTLS, AUTH and QUIT, the ZGW
API sees GET requests only.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from pathlib import Path
from typing import Any

from klachtwacht.check.result import FAIL, OK, WARN, CheckResult
from klachtwacht.config import Config
from klachtwacht.errors import KlachtwachtError
from klachtwacht.explain import broker_error, database_error, database_target, smtp_error

__all__ = ["check_database", "check_broker", "check_smtp", "check_register"]

#: Seconds any one check waits for a server.
TIMEOUT = 5.0


def check_database(config: Config) -> CheckResult:
    """Reachable, writable, and the schema at the latest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from klachtwacht.db.migrate import alembic_config

    url = config.database.url
    where = database_target(url)
    started = time.monotonic()
    if url.startswith("sqlite"):
        path = Path(where)
        if not path.parent.is_dir():
            return CheckResult("database", FAIL, f"database.url: the folder {path.parent} does not exist; create it or point database.url elsewhere")
        if not path.exists():
            return CheckResult("database", FAIL, f"database.url: {path} does not exist yet; run klachtwacht db upgrade")
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            return CheckResult("database", FAIL, f"database.url: {path} cannot be written (permission denied); give this user write access to it and to {path.parent}")
        connect_args: dict[str, Any] = {"timeout": TIMEOUT}
    else:
        connect_args = {"connect_timeout": int(TIMEOUT)}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return CheckResult("database", FAIL, str(database_error(exc, url)))
    finally:
        engine.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    seconds = time.monotonic() - started
    level = ", ".join(sorted(current)) or "none"
    if not current:
        return CheckResult("database", FAIL, f"{where}: no schema yet; run klachtwacht db upgrade", seconds)
    if current != heads:
        return CheckResult("database", FAIL, f"{where}: schema at {level}, this version needs {', '.join(sorted(heads))}; run klachtwacht db upgrade", seconds)
    return CheckResult("database", OK, f"{where}, schema at {level} (latest)", seconds)


def check_broker(config: Config) -> CheckResult:
    """The broker answers (Redis PING, an AMQP connection opened and closed)."""
    url = config.broker.url
    if url.startswith("memory://"):
        return CheckResult("broker", WARN, "memory:// (in this process only): fine for one host; use Redis or RabbitMQ for workers on several hosts")
    started = time.monotonic()
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
            try:
                client.ping()
            finally:
                client.close()
        else:
            import pika

            parameters = pika.URLParameters(url)
            parameters.socket_timeout = TIMEOUT
            parameters.connection_attempts = 1
            pika.BlockingConnection(parameters).close()
    except Exception as exc:
        return CheckResult("broker", FAIL, str(broker_error(exc, url)))
    return CheckResult("broker", OK, f"{url.split('@')[-1]} answers", time.monotonic() - started)


def check_smtp(config: Config, *, login: bool = True) -> CheckResult:
    """Connect, EHLO, STARTTLS or TLS as configured, AUTH when a user is set; nothing is sent."""
    cfg = config.smtp
    started = time.monotonic()
    steps = []
    client: smtplib.SMTP | None = None
    try:
        context = ssl.create_default_context(cafile=cfg.ca_file)
        if cfg.security == "tls":
            client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=min(cfg.timeout, TIMEOUT), context=context)
            steps.append("TLS")
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=min(cfg.timeout, TIMEOUT))
        client.ehlo()
        if cfg.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
            steps.append("STARTTLS")
        if cfg.username and login:
            try:
                password = cfg.password.reveal() if cfg.password else ""
            except KlachtwachtError as exc:
                return CheckResult("smtp", FAIL, f"configuration error: {exc}")
            client.login(cfg.username, password)
            steps.append(f"login as {cfg.username}")
        elif not cfg.username:
            steps.append("no login configured")
        size = client.esmtp_features.get("size")
    except Exception as exc:
        return CheckResult("smtp", FAIL, str(smtp_error(exc, cfg.host, cfg.port, cfg.username)))
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    limit = f", accepts up to {int(size) // 1_000_000} MB" if size and size.isdigit() and int(size) > 0 else ""
    return CheckResult("smtp", OK, f"{cfg.host}:{cfg.port}: {', '.join(steps)}{limit}; nothing sent", time.monotonic() - started)


def check_register(config: Config) -> list[CheckResult]:
    """The register backend; for ZGW the zaaktype in its catalogue and a dry request to each API."""
    backend = config.register.backend
    if backend == "database":
        return [CheckResult("register", OK, "built in: complaints are numbered and kept in the database")]
    if backend == "email":
        return [CheckResult("register", OK, "by e-mail to each organisation's complaints team, over the SMTP server above")]
    from klachtwacht.check.zgw import check_zgw

    return check_zgw(config)
