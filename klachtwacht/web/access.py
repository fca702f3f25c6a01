"""Who may see which message: a message is visible when it was seen in one of the account's mailboxes."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from klachtwacht.db.models import Message, Sighting
from klachtwacht.web.accounts import Account

__all__ = ["visible", "visible_message", "mailboxes_of"]


def visible(account: Account, mailboxes: tuple[str, ...] | list[str] | set[str]) -> bool:
    """True when one of ``mailboxes`` (the message's) is the account's."""
    return bool(set(account.mailboxes) & set(mailboxes))


def mailboxes_of(session: Session, message_pk: int) -> list[str]:
    """The names of the mailboxes a message was seen in, in the order it was seen."""
    names: list[str] = []
    for name in session.scalars(select(Sighting.mailbox).where(Sighting.message_pk == message_pk).order_by(Sighting.id)):
        if name not in names:
            names.append(name)
    return names


def visible_message(session: Session, account: Account, message_pk: int) -> Message | None:
    """The message when the account may see it; None when it does not exist or is not hers (the caller answers 404 either way)."""
    if not account.mailboxes:
        return None
    seen_here = exists().where(Sighting.message_pk == Message.id, Sighting.mailbox.in_(account.mailboxes))
    return session.scalar(select(Message).where(Message.id == message_pk, seen_here))
