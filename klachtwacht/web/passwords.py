"""Password hashes (argon2id): one hasher, made once and passed down."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST

__all__ = ["make_hasher", "cheap_hasher", "verify", "MIN_LENGTH"]

#: The shortest password ``users add`` accepts.
MIN_LENGTH = 10
#: Verified against when the account does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_PASSWORD = "geen-account-met-deze-naam"


def make_hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters (RFC 9106 low-memory profile)."""
    return PasswordHasher()


def cheap_hasher() -> PasswordHasher:
    """The cheapest parameters argon2 allows: for tests and benchmarks only."""
    return PasswordHasher.from_parameters(CHEAPEST)


def verify(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; a missing hash still costs one verification."""
    if stored is None:
        stored = hasher.hash(_DUMMY_PASSWORD)
        password = password + "\0"
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
