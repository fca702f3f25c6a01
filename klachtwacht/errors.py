"""The one error tree of klachtwacht.

Every error the project raises derives from :class:`KlachtwachtError`.
Third-party errors are translated at the boundary with ``raise ... from exc``.
Workers retry :class:`RetryableError` and give up on everything else.
"""

from __future__ import annotations

__all__ = [
    "KlachtwachtError",
    "ConfigError",
    "RetryableError",
    "MailboxUnavailable",
    "MailboxThrottled",
    "AuthenticationFailed",
    "SignInRefused",
    "FolderMissing",
    "ParseError",
    "ClassifierError",
    "ModelUnavailable",
    "RegisterUnavailable",
    "NoticeUnavailable",
    "NoticeRejected",
    "TemplateError",
    "DatabaseUnavailable",
    "BrokerUnavailable",
    "UsageError",
    "ReviewError",
    "InvalidDecision",
    "DecisionConflict",
    "UndoRefused",
]


class KlachtwachtError(Exception):
    """Base class of every error raised by klachtwacht."""


class ConfigError(KlachtwachtError):
    """Raised when the configuration file is missing, unreadable or invalid.

    The message names the file, the key and what is wrong with it.
    """

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class RetryableError(KlachtwachtError):
    """Raised when an operation failed for a passing reason and may be retried.

    ``retry_after`` is a hint in seconds, when the other side gave one.
    """

    #: False when it is certain that nothing happened outside (the other side said no before acting).
    doubtful: bool = True

    def __init__(self, message: str, *, retry_after: float | None = None, doubtful: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.doubtful = doubtful


class MailboxUnavailable(RetryableError):
    """Raised when the mail server cannot be reached or dropped the connection."""


class MailboxThrottled(MailboxUnavailable):
    """Raised when the mail server asks us to back off (Exchange "Request is throttled")."""


class AuthenticationFailed(KlachtwachtError):
    """Raised when the mail server refuses the credentials or the token."""


class SignInRefused(KlachtwachtError):
    """Raised when a sign-in with the organisation's identity provider (OpenID Connect) is refused.

    ``reason`` is English, for the audit log and the operator; ``message`` is the Dutch sentence the
    user sees, which never tells an attacker which check failed.
    """

    DEFAULT_MESSAGE = "Inloggen met uw organisatieaccount is niet gelukt. Probeer het opnieuw of neem contact op met de beheerder."

    def __init__(self, reason: str, *, message: str = DEFAULT_MESSAGE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class FolderMissing(KlachtwachtError):
    """Raised when a configured folder does not exist (any more) on the server."""


class ParseError(KlachtwachtError):
    """Raised when a message's bytes cannot be turned into a parsed record."""


class ClassifierError(KlachtwachtError):
    """Raised when the classifier model is missing, corrupt or of a wrong version."""


class ModelUnavailable(RetryableError):
    """Raised when a model loaded lazily cannot be read at its first use: the message waits; the fault is not its own."""


class RegisterUnavailable(RetryableError):
    """Raised when the complaints register cannot be reached or refused for a passing reason."""


class NoticeUnavailable(RetryableError):
    """Raised when the SMTP server cannot take a notice for a passing reason."""


class NoticeRejected(KlachtwachtError):
    """Raised when the SMTP server refuses a notice for good (a 5xx answer)."""


class TemplateError(ConfigError):
    """Raised at load time when a notice template is missing or broken."""


class DatabaseUnavailable(RetryableError):
    """Raised when the database cannot be reached."""


class BrokerUnavailable(RetryableError):
    """Raised when the broker (Redis, RabbitMQ) cannot be reached or refuses the credentials."""


class UsageError(KlachtwachtError):
    """Raised when a command is called with arguments it cannot work with (exit status 2)."""


class ReviewError(KlachtwachtError):
    """Base of the review app's refusals; the message is Dutch, for the person who acted."""


class InvalidDecision(ReviewError):
    """Raised when a decision is incomplete or names an unknown label or sub-type (nothing was changed)."""


class DecisionConflict(ReviewError):
    """Raised when a message was decided meanwhile (another tab, another person): nothing was changed."""


class UndoRefused(ReviewError):
    """Raised when a decision cannot be taken back any more; the message says what already happened."""
