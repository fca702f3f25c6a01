"""Typed SQLAlchemy 2 models: the database is the source of truth.

Every message has a durable ``state`` and an append-only history in
``transitions``. Raw bytes live in ``raw_blobs``, compressed and addressed by
their SHA-256. Idempotency is a table: unique keys on each sighting
(mailbox, folder, uidvalidity, uid) and on each message's identity.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from klachtwacht.db.types import UTCDateTime

__all__ = [
    "Base",
    "RawBlob",
    "Message",
    "Sighting",
    "Transition",
    "FolderCursor",
    "Lease",
    "RegisterEntry",
    "Effect",
    "NoticeQuota",
    "User",
    "UserMailbox",
    "WebSession",
    "AuditEntry",
    "ReviewDecision",
    "Sample",
    "ModeChange",
    "MessageState",
    "FINAL_STATES",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class MessageState:
    """The states a message moves through (strings, stored as they are)."""

    FETCHED = "fetched"
    PARSED = "parsed"
    CLASSIFIED = "classified"
    DECIDED = "decided"
    REGISTERED = "registered"
    NOTIFIED = "notified"
    DONE = "done"
    REVIEW = "review"
    QUARANTINED = "quarantined"
    FAILED = "failed"
    CANARY = "canary"  # a nightly probe, recognised by its signed token: never classified, registered, reviewed or notified
    #: Received before the mailbox's start date: classified, never registered or answered.
    HISTORY = "history"
    #: Planned in shadow mode: what would have been done is in the outbox as ``shadow`` rows; nothing is done.
    SHADOW = "shadow"


#: States in which no further automatic work happens until a person acts.
FINAL_STATES = frozenset(
    {
        MessageState.DONE, MessageState.REVIEW, MessageState.QUARANTINED, MessageState.FAILED,
        MessageState.CANARY, MessageState.HISTORY, MessageState.SHADOW,
    }
)  # fmt: skip

intpk = Annotated[int, mapped_column(primary_key=True, autoincrement=True)]
sha256 = Annotated[str, mapped_column(String(64))]
tz_datetime = Annotated[datetime, mapped_column(UTCDateTime())]


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class RawBlob(Base):
    """The exact bytes of a message as fetched, Zstandard-compressed (see klachtwacht.intake)."""

    __tablename__ = "raw_blobs"

    sha256: Mapped[sha256] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[tz_datetime] = mapped_column(default=utcnow)


class Message(Base):
    """One message, however many mailboxes it was seen in.

    ``identity`` is the content key of :func:`ingest.identity.identify`
    (``c1:<sha256>``); ``fingerprint`` is its looser text key, compared only
    between mails that share a ``message_id``. ``defects`` lists what intake
    found wrong with the message's identity (a Message-ID another message
    carries too), in English, for operators.
    """

    __tablename__ = "messages"

    id: Mapped[intpk]
    identity: Mapped[str] = mapped_column(String(1000), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    blob_sha256: Mapped[sha256] = mapped_column(ForeignKey("raw_blobs.sha256"))
    received_at: Mapped[tz_datetime]
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(320))
    parsed: Mapped[dict[str, Any] | None]
    label: Mapped[str | None] = mapped_column(String(20))
    subtype: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    scores: Mapped[dict[str, Any] | None]
    reasons: Mapped[list[Any] | None]
    model: Mapped[str | None] = mapped_column(String(100))
    classification: Mapped[dict[str, Any] | None]
    decision: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    # identity (migration 0003_identity)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    defects: Mapped[list[Any] | None]
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # raw bytes and text removed (retention)
    # going live (migration 0007_going_live): the mode (shadow | confirm | auto) under which its plan was made
    plan_mode: Mapped[str | None] = mapped_column(String(10))

    sightings: Mapped[list[Sighting]] = relationship(back_populates="message", order_by="Sighting.id")

    __table_args__ = (
        Index("ix_messages_state_changed", "state", "state_changed_at"),
        Index("ix_messages_message_id", "message_id"),
        Index("ix_messages_state_received", "state", "received_at", "id"),  # the review queue, oldest first (0010_review_queue)
    )


class Sighting(Base):
    """One place a message was seen: mailbox, folder, UIDVALIDITY and UID."""

    __tablename__ = "sightings"

    id: Mapped[intpk]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    internaldate: Mapped[tz_datetime]
    blob_sha256: Mapped[sha256] = mapped_column(ForeignKey("raw_blobs.sha256"))
    seen_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    #: The IMAP flags carried ``\\Answered`` when klachtwacht first fetched it (the owner had replied already).
    answered: Mapped[bool] = mapped_column(default=False)

    message: Mapped[Message] = relationship(back_populates="sightings")

    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", "uid", name="uq_sighting_place"),)


class Transition(Base):
    """Append-only history: one row per state change of a message."""

    __tablename__ = "transitions"

    id: Mapped[intpk]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class FolderCursor(Base):
    """Where the poller is in one folder: (UIDVALIDITY, last UID), per epoch."""

    __tablename__ = "folder_cursors"

    mailbox: Mapped[str] = mapped_column(String(200), primary_key=True)
    folder: Mapped[str] = mapped_column(String(500), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    #: When klachtwacht first read this folder: the start date ``first-poll`` (None: read before 0007_going_live).
    first_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Graph folders: the nextLink to resume a sync at, or the deltaLink of the last one (IMAP folders: None).
    delta_link: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """A named lease: only its holder works the resource until it expires."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[tz_datetime]


class RegisterEntry(Base):
    """One complaint in the central register; at most one per message."""

    __tablename__ = "register_entries"

    id: Mapped[intpk]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    organisation: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    received_at: Mapped[tz_datetime]
    due: Mapped[date] = mapped_column(Date)
    refusal_due: Mapped[date] = mapped_column(Date)
    extended_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    backend: Mapped[str] = mapped_column(String(20))
    external_ref: Mapped[str | None] = mapped_column(String(500))
    route: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the complaint was handled (retention counts from it)

    __table_args__ = (UniqueConstraint("organisation", "year", "sequence", name="uq_register_sequence"),)


class Effect(Base):
    """The ledger of external effects: one row per (message, effect, recipient).

    The outbox: the decide step writes the plan as ``planned`` rows (or
    ``skipped`` with the reason) with the state change; a planned row can be
    ``cancelled`` until it is performed. A performer marks it ``started``
    before the call and ``done`` (or ``rejected``) after it; a retry that finds
    ``started`` looks in the outside world before acting again.
    """

    __tablename__ = "effects"

    id: Mapped[intpk]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    effect: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))  # planned | started | done | skipped | rejected | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The outbox: what the performer needs (phase, template, organisation, ...), written with the plan.
    payload: Mapped[dict[str, Any] | None]

    __table_args__ = (UniqueConstraint("message_pk", "effect", "recipient", name="uq_effect_once"),)


class NoticeQuota(Base):
    """How many notices went to one address on one day (Europe/Amsterdam): the rate limit."""

    __tablename__ = "notice_quota"

    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# -- the review app (migration 0006_review) ---------------------------------


class User(Base):
    """An account of the review app: a local password (argon2) or an OpenID Connect identity (tid + oid)."""

    __tablename__ = "users"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # secretaris | coordinator | beheerder
    organisation: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    oidc_tid: Mapped[str | None] = mapped_column(String(100))
    oidc_oid: Mapped[str | None] = mapped_column(String(100))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[tz_datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("oidc_tid", "oidc_oid", name="uq_users_oidc"),)


class UserMailbox(Base):
    """A mailbox (by its configured name) whose messages a secretaris may see and decide."""

    __tablename__ = "user_mailboxes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200), primary_key=True)


class WebSession(Base):
    """A server-side session: the cookie holds only ``id`` (random); revoked by setting ``revoked_at``."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[tz_datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    origin: Mapped[str | None] = mapped_column(String(100))


class AuditEntry(Base):
    """Append-only audit log (BIO 8.15): who did what to which object, with what result, from where."""

    __tablename__ = "audit_log"

    id: Mapped[intpk]
    at: Mapped[tz_datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))  # a user name, "anonymous" or "system"
    action: Mapped[str] = mapped_column(String(60))  # e.g. sign-in, sign-in-failed, view-message, decide, undo
    object: Mapped[str | None] = mapped_column(String(200))  # e.g. "message 12", "user ria"
    result: Mapped[str] = mapped_column(String(40))  # ok | denied | not-found | invalid | conflict
    origin: Mapped[str | None] = mapped_column(String(100))  # the client address
    detail: Mapped[str | None] = mapped_column(Text)  # never a body, a BSN or an address


class ReviewDecision(Base):
    """A person's decision on a message, with the model's prediction beside it: the measure of the model in production.

    ``source`` is ``review`` (a message the model sent to review), ``steekproef``
    (a sampled automatic decision, confirmed or corrected) or ``correction``
    (an automatic decision corrected afterwards). ``undone_at`` marks a
    decision taken back while its effects were still planned.
    """

    __tablename__ = "review_decisions"

    id: Mapped[intpk]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    predicted_label: Mapped[str | None] = mapped_column(String(20))
    predicted_subtype: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    model: Mapped[str | None] = mapped_column(String(100))
    final_label: Mapped[str] = mapped_column(String(20))  # klacht | beleidsvraag | overig
    final_subtype: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    answerer: Mapped[str | None] = mapped_column(String(200))  # beleidsvraag: who answers
    previous_state: Mapped[str | None] = mapped_column(String(20))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Sample(Base):
    """An automatic decision drawn for the steekproef: the coordinator confirms or corrects it."""

    __tablename__ = "samples"

    id: Mapped[intpk]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    organisation: Mapped[str] = mapped_column(String(200))
    week: Mapped[str] = mapped_column(String(10))  # ISO week, e.g. 2026-W49
    drawn_at: Mapped[tz_datetime] = mapped_column(default=utcnow)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("review_decisions.id"))


# -- going live (migration 0007_going_live) ---------------------------------


class ModeChange(Base):
    """The going-live mode of a mailbox as configured at a start, recorded when it differs from the last one."""

    __tablename__ = "mode_changes"

    id: Mapped[intpk]
    mailbox: Mapped[str] = mapped_column(String(200), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))  # shadow | confirm | auto
    previous: Mapped[str | None] = mapped_column(String(10))  # None: the first mode recorded
    at: Mapped[tz_datetime] = mapped_column(default=utcnow)
