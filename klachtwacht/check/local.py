"""Checks of each mailbox, the model and the notice templates."""

from __future__ import annotations

import time

from klachtwacht.check.result import FAIL, OK, WARN, CheckResult
from klachtwacht.config import Config, MailboxConfig
from klachtwacht.errors import ConfigError, KlachtwachtError, MailboxThrottled
from klachtwacht.explain import network_problem

__all__ = ["check_mailbox", "check_model", "check_templates", "WANTED_CAPABILITIES"]

#: Capabilities worth knowing about: IDLE wakes the watcher, the rest make a pass cheaper.
WANTED_CAPABILITIES = ("IDLE", "UIDPLUS", "CONDSTORE", "QRESYNC", "MOVE", "SPECIAL-USE")


def check_mailbox(mailbox: MailboxConfig, index: int) -> list[CheckResult]:
    """Log in once (no retry), read the capabilities, EXAMINE every folder; nothing is changed (Graph: :mod:`klachtwacht.check.graph`)."""
    from ingest.imap import ImapConnection
    from klachtwacht.runtime import token_provider

    if mailbox.graph is not None:
        from klachtwacht.check.graph import check_graph_mailbox

        return check_graph_mailbox(mailbox, index)

    imap = mailbox.imap
    name = f"mailbox {mailbox.name}"
    key = f"mailboxes[{index}].imap"
    where = f"{imap.host}:{imap.port} ({ {'none': 'no TLS', 'starttls': 'STARTTLS', 'tls': 'TLS'}.get(imap.security, imap.security)})"
    started = time.monotonic()
    try:
        connection = ImapConnection(imap, tokens=token_provider(mailbox), label=mailbox.name)
        connection.connect()
    except ConfigError as exc:
        return [CheckResult(name, FAIL, f"configuration error: {exc}")]
    except MailboxThrottled as exc:
        return [CheckResult(name, FAIL, f"{key}: {where} throttles us ({exc}); wait, or ask the Exchange administrator about the limits")]
    except KlachtwachtError as exc:
        cause = exc.__cause__
        problem = network_problem(cause) if isinstance(cause, OSError) else _without_label(str(exc), mailbox.name)
        return [CheckResult(name, FAIL, f"{key}: the IMAP server at {where} {problem}; {_advice(exc)}")]
    results: list[CheckResult] = []
    try:
        login = time.monotonic() - started
        capabilities = set(connection.capabilities)
        present = [c for c in WANTED_CAPABILITIES if c in capabilities]
        missing = [c for c in WANTED_CAPABILITIES if c not in capabilities]
        status = OK if "IDLE" in capabilities or not mailbox.idle else WARN
        idle = "IDLE yes" if "IDLE" in capabilities else "no IDLE: polling every %.0f s only" % mailbox.poll_interval
        results.append(CheckResult(name, status, f"login as {imap.username} at {where}; {idle}; has {' '.join(present) or '-'}; lacks {' '.join(missing) or '-'}", login))
        for folder in mailbox.folders:
            folder_started = time.monotonic()
            try:
                status_ = connection.examine(folder)
            except MailboxThrottled as exc:
                results.append(CheckResult(f"{name} {folder}", FAIL, f"throttled by the server ({exc}); it answers again after {exc.retry_after or 60:.0f} s"))
                break
            except KlachtwachtError as exc:
                results.append(CheckResult(f"{name} {folder}", FAIL, f"mailboxes[{index}].folders: {folder!r} cannot be opened ({_without_label(str(exc), mailbox.name)}); correct the folder name"))
                continue
            results.append(CheckResult(f"{name} {folder}", OK, f"{status_.exists} messages, UIDVALIDITY {status_.uidvalidity}, read-only; not throttled", time.monotonic() - folder_started))
    finally:
        connection.close()
    return results


def _without_label(text: str, label: str) -> str:
    return text.removeprefix(f"{label}: connect: ").removeprefix(f"{label}: ")


def _advice(exc: KlachtwachtError) -> str:
    from klachtwacht.errors import AuthenticationFailed

    if isinstance(exc, AuthenticationFailed):
        return "check username and password_env (or the XOAUTH2 app's permissions)"
    return "check host, port and security, and that the server runs"


def check_model(config: Config) -> CheckResult:
    """The classifier loads; its name, version and how long loading took."""
    from classifiers.classifier import Classifier

    started = time.monotonic()
    try:
        model = Classifier.load(config.classifier.model)
    except Exception as exc:
        where = config.classifier.model or "the shipped model"
        return CheckResult("model", FAIL, f"classifier.model: {where} cannot be loaded ({type(exc).__name__}: {str(exc)[:160]}); run klachtwacht train or correct classifier.model")
    seconds = time.monotonic() - started
    meta = model.meta
    return CheckResult("model", OK, f"{meta.model_id}, loaded in {seconds:.1f} s; registers at p(klacht) >= {meta.register_threshold:.2f}, review from {meta.review_threshold:.2f}", seconds)


def check_templates(config: Config) -> list[CheckResult]:
    """Every notice template of every organisation renders with sample data."""
    from klachtwacht.notices.render import TEMPLATES, NoticeRenderer

    organisations = config.organisations or (config.organisation("default"),)
    results = []
    for org in organisations:
        try:
            NoticeRenderer((org,), config.path)
        except KlachtwachtError as exc:
            results.append(CheckResult(f"templates {org.name}", FAIL, str(exc)))
            continue
        source = f"from {org.templates} and the defaults" if org.templates else "the defaults"
        results.append(CheckResult(f"templates {org.name}", OK, f"{len(TEMPLATES)} notices render with sample data ({source})"))
    return results
