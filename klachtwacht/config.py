"""Configuration: read once from TOML into frozen objects, validated on load.

A wrong file raises :class:`klachtwacht.errors.ConfigError`, which names the
file, the key and the problem; the command line turns it into exit status 2.
Secrets come from environment variables or files and are wrapped in
:class:`Secret`, whose ``repr`` never shows the value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from klachtwacht.errors import ConfigError
from klachtwacht.web.oidc_config import OidcConfig, oidc_config_from

__all__ = [
    "Config",
    "DatabaseConfig",
    "BrokerConfig",
    "SmtpConfig",
    "RegisterConfig",
    "ImapConfig",
    "GraphConfig",
    "NO_IMAP",
    "MailboxConfig",
    "ClassifierConfig",
    "IngestConfig",
    "Secret",
    "UnloadedSecret",
    "load_config",
    "parse_config",
    "default_config_path",
    "ROLES",
    "OrganisationConfig",
    "RouteConfig",
    "RulesConfig",
    "ReviewConfig",
    "ReconcileConfig",
    "CanaryConfig",
    "WebConfig",
    "GoingLive",
    "MODES",
    "FIRST_POLL",
]

ROLES = ("wethouder", "burgemeester", "raad", "secretariaat")
SECURITY = ("none", "starttls", "tls")
REGISTER_BACKENDS = ("database", "zgw", "email")
IMAP_AUTH = ("password", "xoauth2")
#: Going-live modes: record what would be done / a person confirms every plan first / as configured.
MODES = ("shadow", "confirm", "auto")
#: ``start = "first-poll"``: mail that is in a folder when klachtwacht first reads it is history.
FIRST_POLL = "first-poll"


class Secret:
    """A secret value that never shows itself in a repr, a log or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself, for the one call that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///klachtwacht.db"


@dataclass(frozen=True)
class BrokerConfig:
    url: str = "memory://"


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 1025
    sender: str = "klachten@gemeente.invalid"
    security: str = "none"
    username: str | None = None
    password: Secret | None = None
    timeout: float = 30.0
    #: Extra CA certificates to trust (an internal mail relay's own CA); None: the system's.
    ca_file: str | None = None


@dataclass(frozen=True)
class RegisterConfig:
    backend: str = "database"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str = "tls"
    username: str = ""
    password: Secret | None = None
    auth: str = "password"
    #: For ``auth = "xoauth2"``: tenant, client id and secret of the Entra app,
    #: or ``token_env`` / ``token_file`` holding a ready token (tests, other IdPs).
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    token: Secret | None = None
    connect_timeout: float = 15.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class GraphConfig:
    """``[mailboxes.graph]``: read the mailbox over Microsoft Graph instead of IMAP (see :mod:`ingest.graph`).

    The Entra application (tenant, client id, a client secret or a
    certificate from the environment or a file) has the ``Mail.Read`` application permission,
    limited to the watched mailboxes; ``user`` is the mailbox's user
    principal name (or object id). ``authority`` and ``endpoint`` are those
    of the public cloud unless a national cloud is used; ``ca_file`` trusts
    an extra CA (a TLS-inspecting proxy's).
    """

    tenant_id: str
    client_id: str
    client_secret: Secret | None
    user: str
    #: Instead of a client secret: a PEM with the private key and its certificate (``certificate_file`` or ``certificate_env``).
    certificate: Secret | None = None
    authority: str = "https://login.microsoftonline.com"
    endpoint: str = "https://graph.microsoft.com/v1.0"
    ca_file: str | None = None
    #: Requests at a time to this mailbox (Graph allows 4 per app and mailbox).
    concurrency: int = 4
    timeout: float = 60.0


@dataclass(frozen=True)
class MailboxConfig:
    name: str
    role: str
    address: str
    imap: ImapConfig
    folders: tuple[str, ...] = ("INBOX",)
    organisation: str = "default"
    #: Who hears that a message in this mailbox was handled (the secretary); default: the mailbox itself.
    secretary: str | None = None
    #: Seconds between safety-net polls; IDLE wakes the watcher earlier.
    poll_interval: float = 300.0
    idle: bool = True
    #: A nightly probe through SMTP to ``address`` proves the channel alive (needs ``[reconcile.canary]``).
    canary: bool = False
    #: Going live; None: the organisation's, else ``[ingest]``'s (see :meth:`Config.going_live`).
    start: date | str | None = None
    max_age_days: int | None = None
    mode: str | None = None
    #: Set for a mailbox read over Microsoft Graph; ``imap`` then holds no server (see :data:`NO_IMAP`).
    graph: GraphConfig | None = None


@dataclass(frozen=True)
class GoingLive:
    """The going-live settings that apply to one mailbox, with the defaults filled in."""

    start: date | None  # None: "first-poll"
    max_age_days: int | None  # None: no age guard
    mode: str


#: The ``imap`` of a mailbox read over Graph: no server, never connected to.
NO_IMAP = ImapConfig(host="", port=993, auth="none")

#: Seconds between delta polls of a Graph mailbox unless ``poll_interval`` says otherwise.
GRAPH_POLL_INTERVAL = 60.0


@dataclass(frozen=True)
class OrganisationConfig:
    """One organisation with its own register numbers, teams and templates."""

    name: str
    display_name: str
    register_prefix: str = "KL"
    complaints_team: str = "het klachtenteam"
    complaints_address: str | None = None
    bezwaar_address: str | None = None
    woo_address: str | None = None
    phone: str | None = None
    website: str | None = None
    templates: str | None = None  # folder with templates that override the defaults
    #: This organisation's operating points; None: those of [rules], else the model's.
    register_threshold: float | None = None
    review_threshold: float | None = None
    mode: str | None = None  # None: that of [ingest]


@dataclass(frozen=True)
class RouteConfig:
    """Complaints about these topics go to ``organisation`` (a shared-service organisation)."""

    name: str
    organisation: str
    topics: tuple[str, ...]
    from_organisations: tuple[str, ...] = ()  # empty: from every organisation


@dataclass(frozen=True)
class RulesConfig:
    register_threshold: float | None = None  # None: the model's operating point
    review_threshold: float | None = None
    routes: tuple[RouteConfig, ...] = ()
    notices_per_sender_per_day: int = 3


@dataclass(frozen=True)
class ClassifierConfig:
    model: str | None = None  # path; None = the model shipped in the package


@dataclass(frozen=True)
class IngestConfig:
    batch_size: int = 100
    batch_bytes: int = 16 * 1024 * 1024
    #: A message that sat in a non-final state longer than this is re-enqueued.
    stuck_after: float = 300.0
    #: How long ``ingest --once`` waits for messages to reach a final state.
    wait_timeout: float = 600.0
    lease_seconds: float = 120.0
    #: Processes that parse and classify a freshly fetched batch, the poller's own counted: 1 does it in the poller
    #: itself; N starts N - 1 helpers (each holds the model, some 230 MB) while the poller's process does the
    #: database and the outside calls. Two on two cores: as fast as three, and 300 MB less.
    parse_processes: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    #: Going live: ``first-poll`` or a date; mail received before it is kept as history.
    start: date | str = FIRST_POLL
    #: Older mail (by INTERNALDATE) when its plan is made gets no automatic letter; 0 turns the guard off.
    max_age_days: int = 14
    mode: str = "auto"


@dataclass(frozen=True)
class CanaryConfig:
    """``[reconcile.canary]``: the signed nightly probes (see klachtwacht.canary)."""

    secret: Secret  # the HMAC key, from secret_env or secret_file, never inline
    max_delay_minutes: float = 30.0  # a probe recognised later than this counts as not arrived
    valid_hours: float = 48.0  # an older token is expired: the mail is treated as ordinary mail


@dataclass(frozen=True)
class ReconcileConfig:
    """``[reconcile]``: the nightly reconciliation (see klachtwacht.reconcile)."""

    window_days: int = 14  # how far back the mailbox check compares server UIDs with sightings
    stuck_minutes: float = 60.0
    review_working_days: int = 2
    deadline_warn_days: int = 7
    region: str = "midden"  # school-holiday region: noord | midden | zuid
    volume_weeks: int = 156
    coordinators: tuple[str, ...] = ()  # who receives the report when there are findings
    daily_ok_mail: bool = False  # also send "alles in orde" on a clean night
    report_dir: str = "reports"  # where the HTML and CSV report are written, relative to the configuration file
    at: str = "02:30"  # local time of the nightly run
    retention: Mapping[str, int] = field(default_factory=dict)  # label -> days; see klachtwacht.reconcile.retention
    canary: CanaryConfig | None = None  # None: no probes are sent, a probe-like header is not trusted


@dataclass(frozen=True)
class MetricsConfig:
    """``[metrics]``: where the running service serves Prometheus ``/metrics`` ("host:port"; empty: not served)."""

    listen: str = ""


@dataclass(frozen=True)
class ReviewConfig:
    """``[review]``: the review app's domain settings (see klachtwacht.review)."""

    steekproef_per_week: int = 20  # automatic decisions drawn per organisation and ISO week (0: no steekproef)


@dataclass(frozen=True)
class ArchiveConfig:
    """A mailbox that gets a copy of every letter (an envelope Bcc in the same SMTP transaction).

    Before a letter whose send was interrupted goes out again, klachtwacht
    searches ``folder`` over IMAP for its Message-ID; a copy younger than
    ``delivery_grace`` seconds may still be on its way, so it waits that long.
    """

    address: str
    imap: ImapConfig
    folder: str = "INBOX"
    delivery_grace: float = 60.0


@dataclass(frozen=True)
class WebConfig:
    """``[web]``: the review web app (see klachtwacht.web)."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: A session unused this long is over; the user signs in again.
    session_idle_minutes: int = 30
    #: Failed sign-ins in a row before an account is locked, and for how long.
    lockout_after: int = 5
    lockout_minutes: int = 15
    #: The NL Design System theme: the class on ``<html>`` and its stylesheet (a path under /static or an https URL).
    theme_class: str = "voorbeeld-theme"
    theme_stylesheet: str = "/static/vendor/voorbeeld-design-tokens/theme.css"
    #: Keys 1/2/3, n and ? without a modifier (WCAG 2.1.4: each user can switch them off too).
    single_key_shortcuts: bool = True
    #: Larger request bodies are refused (413).
    max_request_bytes: int = 256 * 1024
    #: ``[web.oidc]``: sign-in with the organisation's Entra ID; None without it.
    oidc: OidcConfig | None = None


@dataclass(frozen=True)
class Config:
    path: str
    database: DatabaseConfig = DatabaseConfig()
    broker: BrokerConfig = BrokerConfig()
    smtp: SmtpConfig = SmtpConfig()
    register: RegisterConfig = RegisterConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    ingest: IngestConfig = IngestConfig()
    mailboxes: tuple[MailboxConfig, ...] = ()
    organisations: tuple[OrganisationConfig, ...] = ()
    rules: RulesConfig = RulesConfig()
    reconcile: ReconcileConfig = ReconcileConfig()
    archive: ArchiveConfig | None = None
    metrics: MetricsConfig = MetricsConfig()
    web: WebConfig = WebConfig()
    review: ReviewConfig = ReviewConfig()

    def organisation(self, name: str) -> OrganisationConfig:
        """The organisation called ``name``; a default one when none is configured."""
        for org in self.organisations:
            if org.name == name:
                return org
        if name == "default" and not self.organisations:
            return OrganisationConfig(name="default", display_name="de gemeente")
        raise KeyError(name)

    def going_live(self, mailbox: MailboxConfig) -> GoingLive:
        """Start, age guard and mode of ``mailbox``: its own, else its organisation's (mode), else ``[ingest]``'s."""
        start = mailbox.start if mailbox.start is not None else self.ingest.start
        max_age = mailbox.max_age_days if mailbox.max_age_days is not None else self.ingest.max_age_days
        org_mode = next((o.mode for o in self.organisations if o.name == mailbox.organisation), None)
        mode = mailbox.mode or org_mode or self.ingest.mode
        return GoingLive(start=start if isinstance(start, date) else None, max_age_days=max_age or None, mode=mode)

    def mailbox(self, name: str) -> MailboxConfig:
        """Return the mailbox called ``name`` or raise KeyError."""
        for mailbox in self.mailboxes:
            if mailbox.name == name:
                return mailbox
        raise KeyError(name)


#: How a type is named in an error ("must be an integer, not a string ('x')").
_KINDS: dict[type, str] = {
    int: "an integer", float: "a float (a number such as 0.85)", str: "a string", bool: "a boolean (true or false)", list: "a list", dict: "a table",
}


class UnloadedSecret(Secret):
    """A secret the configuration names but that was not loaded (read-only commands never need it).

    :meth:`reveal` raises the :class:`ConfigError` loading it would have raised.
    """

    __slots__ = ("error",)

    def __init__(self, error: ConfigError) -> None:
        super().__init__("")
        self.error = error

    def reveal(self) -> str:
        raise self.error


class _LenientEnv(Mapping[str, str]):
    """The environment for a configuration read without secrets: an unset variable reads as empty."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def __getitem__(self, key: str) -> str:
        return self._env.get(key, "\0unloaded")

    def __iter__(self) -> Any:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


def default_config_path() -> str:
    """The path the command line uses when ``--config`` is not given."""
    return os.environ.get("KLACHTWACHT_CONFIG", "klachtwacht.toml")


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None, *, secrets: bool = True) -> Config:
    """Read and validate the TOML file at ``path``.

    With ``secrets=False`` a secret that cannot be read is not an error yet: it
    becomes an :class:`UnloadedSecret` that fails when it is revealed, so
    read-only commands run without the mailboxes' passwords.
    """
    name = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(name, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the file: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise ConfigError(name, "", "the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "", f"not valid TOML: {exc}") from exc
    return parse_config(data, name, env=os.environ if env is None else env, secrets=secrets)


def parse_config(data: Mapping[str, Any], path: str, env: Mapping[str, str] | None = None, *, secrets: bool = True) -> Config:
    """Validate an already-parsed TOML document into a :class:`Config`."""
    reader = _Reader(path, os.environ if env is None else env, secrets=secrets)
    return reader.config(data)


def _array(reader: _Reader, table: Mapping[str, Any], name: str, key: str | None = None) -> list[Any]:
    value = table.get(name, [])
    if not isinstance(value, list):
        raise reader.fail(key or name, f"must be an array of tables ([[{key or name}]])")
    return value


class _Reader:
    """Walks the document, checking each key and naming it when it is wrong."""

    def __init__(self, path: str, env: Mapping[str, str], *, secrets: bool = True) -> None:
        self.path = path
        self.env = env
        self.secrets = secrets

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)

    def table(self, data: Any, key: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise self.fail(key, "must be a table")
        for item in data:
            if item not in allowed:
                prefix = f"{key}." if key else ""
                raise self.fail(f"{prefix}{item}", f"unknown key (allowed: {', '.join(allowed)})")
        return data

    def get(self, table: Mapping[str, Any], key: str, name: str, kind: type, default: Any = ...) -> Any:
        if name not in table:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = table[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be {_KINDS.get(kind, kind.__name__)}, not {_KINDS.get(type(value), type(value).__name__)} ({value!r})")
        return value

    def choice(self, table: Mapping[str, Any], key: str, name: str, choices: tuple[str, ...], default: Any = ...) -> str:
        """One of ``choices``; without a ``default`` the key is required."""
        if name not in table and default is ...:
            raise self.fail(key, f"is required (one of {', '.join(choices)})")
        value = self.get(table, key, name, str, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def port(self, table: Mapping[str, Any], key: str, default: Any = ...) -> int:
        value = self.get(table, key, "port", int, default)
        if not 0 < value < 65536:
            raise self.fail(key, f"must be a port number from 1 to 65535, not {value}")
        return int(value)

    def positive(self, table: Mapping[str, Any], key: str, name: str, kind: type, default: Any) -> Any:
        value = self.get(table, key, name, kind, default)
        if value <= 0:
            raise self.fail(key, "must be greater than zero")
        return value

    def secret(self, table: Mapping[str, Any], prefix: str, base: str) -> Secret | None:
        """Read ``{base}_env`` or ``{base}_file``; an inline ``{base}`` is refused."""
        if base in table:
            raise self.fail(f"{prefix}.{base}", f"secrets are never inline: use {base}_env or {base}_file")
        env_key, file_key = f"{base}_env", f"{base}_file"
        if env_key in table and file_key in table:
            raise self.fail(f"{prefix}.{env_key}", f"give {env_key} or {file_key}, not both")
        if env_key in table:
            var = self.get(table, f"{prefix}.{env_key}", env_key, str)
            if var not in self.env:
                return self._unloaded(self.fail(f"{prefix}.{env_key}", f"environment variable {var} is not set"))
            return Secret(self.env[var])
        if file_key in table:
            file = self.get(table, f"{prefix}.{file_key}", file_key, str)
            try:
                return Secret(Path(file).read_text(encoding="utf-8").strip())
            except OSError as exc:
                return self._unloaded(self.fail(f"{prefix}.{file_key}", f"cannot read {file}: {exc.strerror}"), exc)
        return None

    def _unloaded(self, error: ConfigError, cause: BaseException | None = None) -> Secret:
        if self.secrets:
            raise error from cause
        return UnloadedSecret(error)

    def config(self, data: Mapping[str, Any]) -> Config:
        top = self.table(
            data, "", ("database", "broker", "smtp", "register", "classifier", "ingest", "mailboxes", "rules", "organisations", "reconcile", "archive",
                       "metrics", "web", "review")
        )
        mailboxes_data = top.get("mailboxes", [])
        if not isinstance(mailboxes_data, list):
            raise self.fail("mailboxes", "must be an array of tables ([[mailboxes]])")
        mailboxes = tuple(self.mailbox(item, f"mailboxes[{i}]") for i, item in enumerate(mailboxes_data))
        names = [m.name for m in mailboxes]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(f"mailboxes[{i}].name", f"mailbox name {name!r} is used twice")
        organisations = tuple(self.organisation(item, f"organisations[{i}]") for i, item in enumerate(_array(self, top, "organisations")))
        org_names = [o.name for o in organisations]
        for i, org in enumerate(org_names):
            if org in org_names[:i]:
                raise self.fail(f"organisations[{i}].name", f"organisation {org!r} is defined twice")
        known = set(org_names) or {"default"}
        for i, mailbox in enumerate(mailboxes):
            if mailbox.organisation not in known:
                raise self.fail(f"mailboxes[{i}].organisation", f"no organisation {mailbox.organisation!r} (known: {', '.join(sorted(known))})")
        rules = self.rules(top.get("rules"), known)
        reconcile = self.reconcile(top.get("reconcile"))
        for i, mailbox in enumerate(mailboxes):
            if mailbox.canary and reconcile.canary is None:
                raise self.fail(f"mailboxes[{i}].canary", "needs [reconcile.canary] with secret_env or secret_file (the key that signs the probes)")
        return Config(
            path=self.path,
            organisations=organisations,
            rules=rules,
            database=self.database(top.get("database")),
            broker=self.broker(top.get("broker")),
            smtp=self.smtp(top.get("smtp")),
            register=self.register(top.get("register")),
            classifier=self.classifier(top.get("classifier")),
            ingest=self.ingest(top.get("ingest")),
            mailboxes=mailboxes,
            reconcile=reconcile,
            archive=self.archive(top["archive"]) if "archive" in top else None,
            metrics=self.metrics(top.get("metrics")),
            web=self.web(top.get("web")),
            review=self.review(top.get("review")),
        )

    def metrics(self, data: Any) -> MetricsConfig:
        table = self.table(data, "metrics", ("listen",))
        listen = self.get(table, "metrics.listen", "listen", str, "")
        host, _, port = listen.rpartition(":")
        if listen and not (host and port.isdigit() and 0 < int(port) < 65536):
            raise self.fail("metrics.listen", f"must be host:port such as \"127.0.0.1:9464\", not {listen!r}")
        return MetricsConfig(listen=listen)

    def web(self, data: Any) -> WebConfig:
        key = "web"
        names = ("host", "port", "session_idle_minutes", "lockout_after", "lockout_minutes", "theme_class", "theme_stylesheet",
                 "single_key_shortcuts", "max_request_bytes", "oidc")
        table = self.table(data, key, names)
        d = WebConfig()
        theme_class = self.get(table, f"{key}.theme_class", "theme_class", str, d.theme_class)
        if not all(c.isalnum() or c in "-_ " for c in theme_class):
            raise self.fail(f"{key}.theme_class", "use CSS class names: letters, digits, '-' and '_', separated by spaces")
        sheet = self.get(table, f"{key}.theme_stylesheet", "theme_stylesheet", str, d.theme_stylesheet)
        if not (sheet.startswith("/static/") or sheet.startswith("https://")) or any(c in sheet for c in "\"' <>;"):
            raise self.fail(f"{key}.theme_stylesheet", f"must be a path under /static/ or an https:// URL, not {sheet!r}")
        max_bytes = self.positive(table, f"{key}.max_request_bytes", "max_request_bytes", int, d.max_request_bytes)
        if max_bytes < 4096:
            raise self.fail(f"{key}.max_request_bytes", f"must be at least 4096 (a decision form), not {max_bytes}")
        return WebConfig(
            host=self.get(table, f"{key}.host", "host", str, d.host),
            port=self.port(table, f"{key}.port", d.port),
            session_idle_minutes=self.positive(table, f"{key}.session_idle_minutes", "session_idle_minutes", int, d.session_idle_minutes),
            lockout_after=self.positive(table, f"{key}.lockout_after", "lockout_after", int, d.lockout_after),
            lockout_minutes=self.positive(table, f"{key}.lockout_minutes", "lockout_minutes", int, d.lockout_minutes),
            theme_class=theme_class,
            theme_stylesheet=sheet,
            single_key_shortcuts=self.get(table, f"{key}.single_key_shortcuts", "single_key_shortcuts", bool, d.single_key_shortcuts),
            max_request_bytes=max_bytes,
            oidc=oidc_config_from(table.get("oidc"), path=self.path, env=self.env, secrets=self.secrets),
        )

    def review(self, data: Any) -> ReviewConfig:
        table = self.table(data, "review", ("steekproef_per_week",))
        size = self.get(table, "review.steekproef_per_week", "steekproef_per_week", int, ReviewConfig().steekproef_per_week)
        if size < 0:
            raise self.fail("review.steekproef_per_week", "must be zero (no steekproef) or more")
        return ReviewConfig(steekproef_per_week=size)

    def archive(self, data: Any) -> ArchiveConfig:
        table = self.table(data, "archive", ("address", "folder", "delivery_grace", "imap"))
        if "imap" not in table:
            raise self.fail("archive.imap", "is required (how klachtwacht reads the copies back)")
        return ArchiveConfig(
            address=self.address(self.get(table, "archive.address", "address", str), "archive.address"),
            imap=self.imap(table["imap"], "archive.imap"),
            folder=self.get(table, "archive.folder", "folder", str, "INBOX"),
            delivery_grace=self.positive(table, "archive.delivery_grace", "delivery_grace", float, 60.0),
        )

    def organisation(self, data: Any, key: str) -> OrganisationConfig:
        table = self.table(
            data,
            key,
            (
                "name", "display_name", "register_prefix", "complaints_team", "complaints_address", "bezwaar_address",
                "woo_address", "phone", "website", "templates", "register_threshold", "review_threshold", "mode",
            ),
        )
        register, review = self.thresholds(table, key)
        prefix = self.get(table, f"{key}.register_prefix", "register_prefix", str, "KL")
        if not prefix.isalnum() or len(prefix) > 10:
            raise self.fail(f"{key}.register_prefix", "use up to 10 letters or digits")
        addresses = {}
        for name in ("complaints_address", "bezwaar_address", "woo_address"):
            value = self.get(table, f"{key}.{name}", name, str, None)
            addresses[name] = None if value is None else self.address(value, f"{key}.{name}")
        templates = self.get(table, f"{key}.templates", "templates", str, None)
        if templates is not None and not Path(templates).is_dir():
            raise self.fail(f"{key}.templates", f"folder {templates} does not exist")
        return OrganisationConfig(
            name=self.get(table, f"{key}.name", "name", str),
            display_name=self.get(table, f"{key}.display_name", "display_name", str),
            register_prefix=prefix,
            complaints_team=self.get(table, f"{key}.complaints_team", "complaints_team", str, "het klachtenteam"),
            phone=self.get(table, f"{key}.phone", "phone", str, None),
            website=self.get(table, f"{key}.website", "website", str, None),
            templates=templates,
            register_threshold=register,
            review_threshold=review,
            mode=self.choice(table, f"{key}.mode", "mode", MODES, None) if "mode" in table else None,
            **addresses,
        )

    def thresholds(self, table: Mapping[str, Any], key: str) -> tuple[float | None, float | None]:
        """``register_threshold`` and ``review_threshold`` of a table, each optional, checked."""
        register = self.get(table, f"{key}.register_threshold", "register_threshold", float, None)
        review = self.get(table, f"{key}.review_threshold", "review_threshold", float, None)
        for name, value in (("register_threshold", register), ("review_threshold", review)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise self.fail(f"{key}.{name}", "must be between 0 and 1")
        if register is not None and review is not None and review > register:
            raise self.fail(f"{key}.review_threshold", f"must not be above {key}.register_threshold ({register})")
        return register, review

    def rules(self, data: Any, organisations: set[str]) -> RulesConfig:
        table = self.table(data, "rules", ("register_threshold", "review_threshold", "routes", "notices_per_sender_per_day"))
        register, review = self.thresholds(table, "rules")
        routes = []
        for i, item in enumerate(_array(self, table, "routes", "rules.routes")):
            key = f"rules.routes[{i}]"
            route = self.table(item, key, ("name", "organisation", "topics", "from_organisations"))
            name = self.get(route, f"{key}.name", "name", str)
            key = f"rules.routes[{i}] ({name})"
            target = self.get(route, f"{key}.organisation", "organisation", str)
            if target not in organisations:
                raise self.fail(f"{key}.organisation", f"no organisation {target!r}")
            topics = self.get(route, f"{key}.topics", "topics", list)
            if not topics or not all(isinstance(t, str) and t for t in topics):
                raise self.fail(f"{key}.topics", "must be a non-empty list of topic words")
            sources = self.get(route, f"{key}.from_organisations", "from_organisations", list, [])
            for source in sources:
                if source not in organisations:
                    raise self.fail(f"{key}.from_organisations", f"no organisation {source!r}")
            routes.append(RouteConfig(name=name, organisation=target, topics=tuple(t.lower() for t in topics), from_organisations=tuple(sources)))
        per_day = self.positive(table, "rules.notices_per_sender_per_day", "notices_per_sender_per_day", int, 3)
        return RulesConfig(register_threshold=register, review_threshold=review, routes=tuple(routes), notices_per_sender_per_day=per_day)

    def database(self, data: Any) -> DatabaseConfig:
        table = self.table(data, "database", ("url",))
        url = self.get(table, "database.url", "url", str, DatabaseConfig.url)
        if not url.startswith(("sqlite:", "postgresql")):
            raise self.fail("database.url", f"must be a sqlite:/// or postgresql+psycopg:// URL, not {url.split(':')[0]!r}")
        return DatabaseConfig(url=url)

    def broker(self, data: Any) -> BrokerConfig:
        table = self.table(data, "broker", ("url",))
        url = self.get(table, "broker.url", "url", str, BrokerConfig.url)
        if not url.startswith(("memory://", "redis://", "rediss://", "amqp://", "amqps://")):
            raise self.fail("broker.url", "must start with memory://, redis:// or amqp://")
        return BrokerConfig(url=url)

    def smtp(self, data: Any) -> SmtpConfig:
        key = "smtp"
        table = self.table(
            data, key, ("host", "port", "sender", "security", "username", "password_env", "password_file", "password", "timeout", "ca_file")
        )
        ca_file = self.get(table, f"{key}.ca_file", "ca_file", str, None)
        if ca_file is not None and not Path(ca_file).is_file():
            raise self.fail(f"{key}.ca_file", f"file {ca_file} does not exist")
        return SmtpConfig(
            host=self.get(table, f"{key}.host", "host", str, SmtpConfig.host),
            port=self.port(table, f"{key}.port", SmtpConfig.port),
            sender=self.address(self.get(table, f"{key}.sender", "sender", str, SmtpConfig.sender), f"{key}.sender"),
            security=self.choice(table, f"{key}.security", "security", SECURITY, "none"),
            username=self.get(table, f"{key}.username", "username", str, None),
            password=self.secret(table, key, "password"),
            timeout=self.positive(table, f"{key}.timeout", "timeout", float, SmtpConfig.timeout),
            ca_file=ca_file,
        )

    def register(self, data: Any) -> RegisterConfig:
        if data is None:
            return RegisterConfig()
        if not isinstance(data, Mapping):
            raise self.fail("register", "must be a table")
        backend = self.choice(data, "register.backend", "backend", REGISTER_BACKENDS, "database")
        options = {k: v for k, v in data.items() if k != "backend"}
        if backend == "zgw":
            from klachtwacht.register.zgw_options import parse_options

            parse_options(options, self.path, self.env if self.secrets else _LenientEnv(self.env))  # every option checked now, not at the first complaint
        elif options:
            key = sorted(options)[0]
            raise self.fail(f"register.{key}", f"unknown key for the {backend} register (it takes only 'backend')")
        return RegisterConfig(backend=backend, options=options)

    def classifier(self, data: Any) -> ClassifierConfig:
        table = self.table(data, "classifier", ("model",))
        return ClassifierConfig(model=self.get(table, "classifier.model", "model", str, None))

    def ingest(self, data: Any) -> IngestConfig:
        key = "ingest"
        table = self.table(
            data, key, ("batch_size", "batch_bytes", "stuck_after", "wait_timeout", "lease_seconds", "parse_processes", "start", "max_age_days", "mode")
        )
        d = IngestConfig()
        return IngestConfig(
            start=self.start(table, f"{key}.start", d.start) or FIRST_POLL,
            max_age_days=self.max_age(table, f"{key}.max_age_days", d.max_age_days) or 0,
            mode=self.choice(table, f"{key}.mode", "mode", MODES, d.mode),
            batch_size=self.positive(table, f"{key}.batch_size", "batch_size", int, d.batch_size),
            batch_bytes=self.positive(table, f"{key}.batch_bytes", "batch_bytes", int, d.batch_bytes),
            stuck_after=self.positive(table, f"{key}.stuck_after", "stuck_after", float, d.stuck_after),
            wait_timeout=self.positive(table, f"{key}.wait_timeout", "wait_timeout", float, d.wait_timeout),
            lease_seconds=self.positive(table, f"{key}.lease_seconds", "lease_seconds", float, d.lease_seconds),
            parse_processes=self.positive(table, f"{key}.parse_processes", "parse_processes", int, d.parse_processes),
        )

    def reconcile(self, data: Any) -> ReconcileConfig:
        key = "reconcile"
        names = ("window_days", "stuck_minutes", "review_working_days", "deadline_warn_days", "region", "volume_weeks",
                 "coordinators", "daily_ok_mail", "report_dir", "at", "retention", "canary")
        table = self.table(data, key, names)
        d = ReconcileConfig()
        coordinators = self.get(table, f"{key}.coordinators", "coordinators", list, [])
        at = self.get(table, f"{key}.at", "at", str, d.at)
        hour, _, minute = at.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise self.fail(f"{key}.at", f"must be a time of day such as \"02:30\", not {at!r}")
        return ReconcileConfig(
            window_days=self.positive(table, f"{key}.window_days", "window_days", int, d.window_days),
            stuck_minutes=self.positive(table, f"{key}.stuck_minutes", "stuck_minutes", float, d.stuck_minutes),
            review_working_days=self.positive(table, f"{key}.review_working_days", "review_working_days", int, d.review_working_days),
            deadline_warn_days=self.positive(table, f"{key}.deadline_warn_days", "deadline_warn_days", int, d.deadline_warn_days),
            region=self.choice(table, f"{key}.region", "region", ("noord", "midden", "zuid"), d.region),
            volume_weeks=self.positive(table, f"{key}.volume_weeks", "volume_weeks", int, d.volume_weeks),
            coordinators=tuple(self.address(str(c), f"{key}.coordinators") for c in coordinators),
            daily_ok_mail=self.get(table, f"{key}.daily_ok_mail", "daily_ok_mail", bool, d.daily_ok_mail),
            report_dir=self.get(table, f"{key}.report_dir", "report_dir", str, d.report_dir),
            at=at,
            retention=self.retention(table.get("retention"), f"{key}.retention"),
            canary=self.canary(table["canary"], f"{key}.canary") if "canary" in table else None,
        )

    def canary(self, data: Any, key: str) -> CanaryConfig:
        """``[reconcile.canary]``: the key that signs the probes (from the environment or a file) and their time limits."""
        table = self.table(data, key, ("secret", "secret_env", "secret_file", "max_delay_minutes", "valid_hours"))
        secret = self.secret(table, key, "secret")
        if secret is None:
            raise self.fail(f"{key}.secret_env", "is required: the key that signs the probes (secret_env or secret_file)")
        if not isinstance(secret, UnloadedSecret) and len(secret.reveal()) < 16:
            raise self.fail(f"{key}.secret_env", "the key must be at least 16 characters long")
        d_delay, d_valid = CanaryConfig.max_delay_minutes, CanaryConfig.valid_hours
        return CanaryConfig(
            secret=secret,
            max_delay_minutes=self.positive(table, f"{key}.max_delay_minutes", "max_delay_minutes", float, d_delay),
            valid_hours=self.positive(table, f"{key}.valid_hours", "valid_hours", float, d_valid),
        )

    def retention(self, data: Any, key: str) -> dict[str, int]:
        """``[reconcile.retention]``: days to keep raw mail and text, per label (klacht: after the complaint was closed)."""
        table = self.table(data, key, ("klacht", "beleidsvraag", "overig"))
        return {label: int(self.positive(table, f"{key}.{label}", label, int, None)) for label in table}

    def start(self, table: Mapping[str, Any], key: str, default: Any) -> date | str | None:
        """``start``: "first-poll" or a date (a TOML date or "YYYY-MM-DD") not in the future."""
        if "start" not in table:
            return default  # type: ignore[no-any-return]
        value = table["start"]
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, str) and value != FIRST_POLL:
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f'must be "{FIRST_POLL}" or a date such as 2026-01-15, not {value!r}') from None
        if isinstance(value, str):
            return value
        if not isinstance(value, date):
            raise self.fail(key, f'must be "{FIRST_POLL}" or a date such as 2026-01-15, not {value!r}')
        if value > datetime.now(timezone.utc).date():
            raise self.fail(key, f"{value.isoformat()} is in the future: the start date is when klachtwacht takes over, today at the latest")
        return value

    def max_age(self, table: Mapping[str, Any], key: str, default: Any) -> int | None:
        value = self.get(table, key, "max_age_days", int, default)
        if value is not None and value < 0:
            raise self.fail(key, "must be 0 (no age guard) or a number of days")
        return value  # type: ignore[no-any-return]

    def address(self, value: str, key: str) -> str:
        if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or " " in value:
            raise self.fail(key, f"{value!r} is not an e-mail address")
        return value

    def mailbox(self, data: Any, key: str) -> MailboxConfig:
        table = self.table(
            data, key, ("name", "role", "address", "folders", "organisation", "secretary", "poll_interval", "idle", "canary", "imap", "graph", "start", "max_age_days", "mode")
        )
        name = self.get(table, f"{key}.name", "name", str)
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise self.fail(f"{key}.name", "use letters, digits, '-', '_' or '.' only")
        folders = self.get(table, f"{key}.folders", "folders", list, ["INBOX"])
        if not folders or not all(isinstance(f, str) and f for f in folders):
            raise self.fail(f"{key}.folders", "must be a non-empty list of folder names")
        if "imap" in table and "graph" in table:
            raise self.fail(f"{key}.graph", "give [mailboxes.imap] or [mailboxes.graph], not both")
        if "imap" not in table and "graph" not in table:
            raise self.fail(f"{key}.imap", "is required (or [mailboxes.graph] for Exchange Online over Microsoft Graph)")
        graph = self.graph(table["graph"], f"{key}.graph") if "graph" in table else None
        return MailboxConfig(
            name=name,
            role=self.choice(table, f"{key}.role", "role", ROLES),
            address=self.address(self.get(table, f"{key}.address", "address", str), f"{key}.address"),
            folders=tuple(folders),
            organisation=self.get(table, f"{key}.organisation", "organisation", str, "default"),
            secretary=self.address(self.get(table, f"{key}.secretary", "secretary", str), f"{key}.secretary") if "secretary" in table else None,
            poll_interval=self.positive(table, f"{key}.poll_interval", "poll_interval", float, 300.0 if graph is None else GRAPH_POLL_INTERVAL),
            idle=self.get(table, f"{key}.idle", "idle", bool, True),
            canary=self.get(table, f"{key}.canary", "canary", bool, False),
            imap=NO_IMAP if graph is not None else self.imap(table["imap"], f"{key}.imap"),
            graph=graph,
            start=self.start(table, f"{key}.start", None),
            max_age_days=self.max_age(table, f"{key}.max_age_days", None),
            mode=self.choice(table, f"{key}.mode", "mode", MODES, None) if "mode" in table else None,
        )

    def graph(self, data: Any, key: str) -> GraphConfig:
        table = self.table(
            data,
            key,
            ("tenant_id", "client_id", "client_secret", "client_secret_env", "client_secret_file", "certificate", "certificate_env",
             "certificate_file", "user", "authority", "endpoint", "ca_file", "concurrency", "timeout"),
        )
        d = GraphConfig("", "", None, "")
        secret = self.secret(table, key, "client_secret")
        certificate = self.secret(table, key, "certificate")
        if secret is None and certificate is None:
            raise self.fail(f"{key}.client_secret_env", "a client secret or certificate is required (client_secret_env, client_secret_file or certificate_file)")
        if secret is not None and certificate is not None:
            raise self.fail(f"{key}.certificate_file", "give a client secret or a certificate, not both")
        if certificate is not None and not isinstance(certificate, UnloadedSecret):
            pem = certificate.reveal()
            if "PRIVATE KEY-----" not in pem or "-----BEGIN CERTIFICATE-----" not in pem:
                raise self.fail(f"{key}.certificate_file", "must hold the private key and the certificate, both in PEM")
        urls = {}
        for name in ("authority", "endpoint"):
            value = self.get(table, f"{key}.{name}", name, str, getattr(d, name))
            if not value.startswith("https://"):
                raise self.fail(f"{key}.{name}", f"must be an https:// URL, not {value!r}")
            urls[name] = value.rstrip("/")
        ca_file = self.get(table, f"{key}.ca_file", "ca_file", str, None)
        if ca_file is not None and not Path(ca_file).is_file():
            raise self.fail(f"{key}.ca_file", f"file {ca_file} does not exist")
        concurrency = self.positive(table, f"{key}.concurrency", "concurrency", int, d.concurrency)
        if concurrency > 4:
            raise self.fail(f"{key}.concurrency", f"Graph allows at most 4 requests at a time per mailbox, not {concurrency}")
        user = self.get(table, f"{key}.user", "user", str)
        if not user or " " in user or "/" in user:
            raise self.fail(f"{key}.user", f"must be the mailbox's user principal name (such as burgemeester@gemeente.nl), not {user!r}")
        return GraphConfig(
            tenant_id=self.get(table, f"{key}.tenant_id", "tenant_id", str),
            client_id=self.get(table, f"{key}.client_id", "client_id", str),
            client_secret=secret,
            certificate=certificate,
            user=user,
            ca_file=ca_file,
            concurrency=concurrency,
            timeout=self.positive(table, f"{key}.timeout", "timeout", float, d.timeout),
            **urls,
        )

    def imap(self, data: Any, key: str) -> ImapConfig:
        table = self.table(
            data,
            key,
            (
                "host", "port", "security", "username", "password", "password_env", "password_file", "auth",
                "tenant_id", "client_id", "client_secret", "client_secret_env", "client_secret_file",
                "token", "token_env", "token_file", "connect_timeout", "read_timeout",
            ),
        )
        security = self.choice(table, f"{key}.security", "security", SECURITY, "tls")
        auth = self.choice(table, f"{key}.auth", "auth", IMAP_AUTH, "password")
        config = ImapConfig(
            host=self.get(table, f"{key}.host", "host", str),
            port=self.port(table, f"{key}.port", 993 if security == "tls" else 143),
            security=security,
            username=self.get(table, f"{key}.username", "username", str),
            password=self.secret(table, key, "password"),
            auth=auth,
            tenant_id=self.get(table, f"{key}.tenant_id", "tenant_id", str, None),
            client_id=self.get(table, f"{key}.client_id", "client_id", str, None),
            client_secret=self.secret(table, key, "client_secret"),
            token=self.secret(table, key, "token"),
            connect_timeout=self.positive(table, f"{key}.connect_timeout", "connect_timeout", float, 15.0),
            read_timeout=self.positive(table, f"{key}.read_timeout", "read_timeout", float, 60.0),
        )
        if auth == "password" and config.password is None:
            raise self.fail(f"{key}.password_env", "a password is required (password_env or password_file)")
        if auth == "xoauth2" and config.token is None:
            missing = [n for n in ("tenant_id", "client_id") if getattr(config, n) is None]
            if config.client_secret is None:
                missing.append("client_secret_env")
            if missing:
                raise self.fail(f"{key}.{missing[0]}", "xoauth2 needs tenant_id, client_id and client_secret_env (or token_env)")
        return config

