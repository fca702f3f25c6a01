"""Accounts of the review app: add, list, disable, and signing in with lock-out.

Roles: ``secretaris`` sees her own mailboxes (:class:`UserMailbox` rows),
``coordinator`` every mailbox of her organisation, ``beheerder`` manages
accounts and sees no mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.config import Config, WebConfig
from klachtwacht.db.models import User, UserMailbox, utcnow
from klachtwacht.errors import UsageError
from klachtwacht.web.passwords import MIN_LENGTH, verify

__all__ = ["ROLES", "ROLE_NAMES", "Account", "SignIn", "add_user", "list_users", "disable_user", "sign_in", "account_of"]

ROLES = ("secretaris", "coordinator", "beheerder")
ROLE_NAMES = {"secretaris": "secretaris", "coordinator": "klachtencoördinator", "beheerder": "beheerder"}


@dataclass(frozen=True)
class Account:
    """A signed-in user as the pages need them: who, which role, which mailboxes."""

    id: int
    name: str
    display_name: str
    role: str
    organisation: str | None
    mailboxes: tuple[str, ...]

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def sees_mail(self) -> bool:
        return self.role in ("secretaris", "coordinator")


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in attempt: ``user_id`` when it succeeded, else why not (``wrong`` or ``locked``)."""

    user_id: int | None
    problem: str | None = None
    locked_until: datetime | None = None


def _check_name(name: str) -> None:
    if not name or len(name) > 200 or not all(c.isalnum() or c in "-_.@" for c in name):
        raise UsageError(f"user name {name!r}: use letters, digits, '-', '_', '.' or '@'")


def add_user(
    sessions: sessionmaker[Session], config: Config, hasher: PasswordHasher, name: str, password: str, *,
    role: str, organisation: str | None = None, mailboxes: tuple[str, ...] = (), display_name: str | None = None,
) -> int:
    """Create an account; return its id. A secretaris needs at least one configured mailbox."""
    _check_name(name)
    if role not in ROLES:
        raise UsageError(f"role {role!r}: choose {', '.join(ROLES)}")
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password must have at least {MIN_LENGTH} characters")
    known = {m.name for m in config.mailboxes}
    unknown = [m for m in mailboxes if m not in known]
    if unknown:
        raise UsageError(f"no mailbox {unknown[0]!r} in the configuration (known: {', '.join(sorted(known)) or 'none'})")
    if role == "secretaris" and not mailboxes:
        raise UsageError("a secretaris needs at least one --mailbox")
    organisations = [o.name for o in config.organisations] or ["default"]
    if organisation is None and role == "coordinator":
        if len(organisations) > 1:
            raise UsageError(f"a coordinator needs --organisation (one of {', '.join(organisations)})")
        organisation = organisations[0]
    if organisation is not None and organisation not in organisations:
        raise UsageError(f"no organisation {organisation!r} (known: {', '.join(organisations)})")
    with sessions.begin() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise UsageError(f"there is already a user {name!r}")
        user = User(name=name, display_name=display_name, role=role, organisation=organisation, password_hash=hasher.hash(password), failed_logins=0)
        session.add(user)
        session.flush()
        for mailbox in dict.fromkeys(mailboxes):
            session.add(UserMailbox(user_id=user.id, mailbox=mailbox))
        return user.id


def list_users(sessions: sessionmaker[Session]) -> list[dict[str, object]]:
    """Every account: name, role, organisation, mailboxes, disabled, locked."""
    with sessions() as session:
        users = session.scalars(select(User).order_by(User.name)).all()
        grants: dict[int, list[str]] = {}
        for user_id, mailbox in session.execute(select(UserMailbox.user_id, UserMailbox.mailbox).order_by(UserMailbox.mailbox)):
            grants.setdefault(user_id, []).append(mailbox)
        now = utcnow()
        return [
            {
                "name": u.name, "role": u.role, "organisation": u.organisation, "mailboxes": grants.get(u.id, []),
                "disabled": u.disabled_at is not None, "locked": u.locked_until is not None and u.locked_until > now,
            }
            for u in users
        ]


def disable_user(sessions: sessionmaker[Session], name: str) -> None:
    """Disable an account and end its sessions; it is kept for the audit log."""
    from klachtwacht.db.models import WebSession

    with sessions.begin() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise UsageError(f"no user {name!r}")
        now = utcnow()
        user.disabled_at = user.disabled_at or now
        for web_session in session.scalars(select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))):
            web_session.revoked_at = now


def sign_in(session: Session, hasher: PasswordHasher, web: WebConfig, name: str, password: str, *, now: datetime | None = None) -> SignIn:
    """Check a name and password; count failures and lock the account after ``web.lockout_after`` of them in a row."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.name == name)) if name else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify(hasher, None, password)  # the same time as any other attempt
        return SignIn(None, "locked", user.locked_until)
    ok = verify(hasher, user.password_hash if user is not None else None, password)
    if user is None or user.disabled_at is not None or user.password_hash is None:
        return SignIn(None, "wrong")
    if not ok:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= web.lockout_after:
            user.locked_until = now + timedelta(minutes=web.lockout_minutes)
            user.failed_logins = 0
            return SignIn(None, "locked", user.locked_until)
        return SignIn(None, "wrong")
    user.failed_logins, user.locked_until = 0, None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return SignIn(user.id)


def account_of(session: Session, config: Config, user: User) -> Account:
    """The :class:`Account` of ``user``: the mailboxes her role lets her see."""
    if user.role == "secretaris":
        granted = set(session.scalars(select(UserMailbox.mailbox).where(UserMailbox.user_id == user.id)))
        mailboxes = tuple(m.name for m in config.mailboxes if m.name in granted)
    elif user.role == "coordinator":
        mailboxes = tuple(m.name for m in config.mailboxes if m.organisation == (user.organisation or "default"))
    else:
        mailboxes = ()
    return Account(user.id, user.name, user.display_name or user.name, user.role, user.organisation, mailboxes)
