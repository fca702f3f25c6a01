"""identity: messages known by their content, not by their Message-ID

Revision ID: 0003_identity
Revises: 0002
Create Date: 2026-12-02 08:00:00

Every message gets the content key and fingerprint of ingest.identity,
recomputed from its stored raw bytes. Nothing is merged: two messages that
now have the same key keep their rows (the later one gets a suffixed key and
a defect). Mails that only shared a Message-ID and were stored as sightings
of one message are split out: each other content becomes a message of its own
in state ``fetched`` (so it is parsed, classified and handled), with its
sightings, the earliest receipt time among them, and a collision defect.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from ingest.identity import Identity, identify
from ingest.matching import Carrier, match_batch
from klachtwacht.intake import MESSAGE_ID_COLLISION, decompress

revision = "0003_identity"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("klachtwacht.db.migrations.0003_identity")
ACTOR = "migrate:0003_identity"
SHARED_CONTENT = "same-content-kept-apart"

messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("identity", sa.String),
    sa.column("message_id", sa.String),
    sa.column("fingerprint", sa.String),
    sa.column("blob_sha256", sa.String),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("state", sa.String),
    sa.column("state_changed_at", sa.DateTime(timezone=True)),
    sa.column("attempts", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("defects", sa.JSON),
)
sightings = sa.table(
    "sightings",
    sa.column("id", sa.Integer),
    sa.column("message_pk", sa.Integer),
    sa.column("blob_sha256", sa.String),
    sa.column("internaldate", sa.DateTime(timezone=True)),
)
transitions = sa.table(
    "transitions",
    sa.column("message_pk", sa.Integer),
    sa.column("from_state", sa.String),
    sa.column("to_state", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("reason", sa.Text),
)
raw_blobs = sa.table("raw_blobs", sa.column("sha256", sa.String), sa.column("data", sa.LargeBinary))


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("defects", sa.JSON(), nullable=True))
        batch_op.create_index("ix_messages_message_id", ["message_id"], unique=False)
    carry_over(op.get_bind())


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def carry_over(conn: sa.Connection) -> dict[str, int]:
    """Re-key every message from its raw bytes and split out the mails merged by a shared Message-ID."""
    cache: dict[str, Identity] = {}

    def identity_of(digest: str) -> Identity:
        if digest not in cache:
            data = conn.execute(sa.select(raw_blobs.c.data).where(raw_blobs.c.sha256 == digest)).scalar_one()
            cache[digest] = identify(decompress(data))
        return cache[digest]

    by_message: dict[int, list[tuple[int, str, datetime]]] = {}
    for sid, pk, digest, internaldate in conn.execute(
        sa.select(sightings.c.id, sightings.c.message_pk, sightings.c.blob_sha256, sightings.c.internaldate).order_by(sightings.c.id)
    ):
        by_message.setdefault(pk, []).append((sid, digest, _utc(internaldate)))
    rows = conn.execute(sa.select(messages.c.id, messages.c.message_id, messages.c.blob_sha256, messages.c.received_at).order_by(messages.c.id)).all()
    assigned: dict[str, int] = {}
    counts = {"messages": len(rows), "split": 0, "kept_apart": 0}
    for pk, message_id, digest, received_at in rows:
        own = identity_of(digest)
        key, defects = own.key, None
        if key in assigned:
            key = f"{own.key}:{pk}"
            defects = [f"{SHARED_CONTENT}: message {assigned[own.key]} has the same content; both kept, as they were stored apart before"]
            counts["kept_apart"] += 1
            log.warning("message %d: same content as message %d, both kept as they were", pk, assigned[own.key])
        else:
            assigned[key] = pk
        conn.execute(sa.update(messages).where(messages.c.id == pk).values(identity=key, fingerprint=own.fingerprint, defects=defects))
        seen = by_message.get(pk, [])
        others = [(sid, d, at) for sid, d, at in seen if d != digest]
        if not others:
            continue
        found = [identity_of(d) for _, d, _ in others]
        known = {**assigned, own.key: pk}
        carriers = {message_id: [Carrier(pk, own.fingerprint)]} if message_id is not None else {}
        matches = match_batch(found, known, carriers)
        groups: dict[int, list[int]] = {}
        for index, match in enumerate(matches):
            if match.founder is not None:
                groups.setdefault(match.founder, []).append(index)
            elif match.message_pk is not None and match.message_pk != pk:
                conn.execute(sa.update(sightings).where(sightings.c.id == others[index][0]).values(message_pk=match.message_pk))
        for founder, members in groups.items():
            new_pk = _split_out(conn, pk, found[founder], [others[i] for i in members])
            assigned[found[founder].key] = new_pk
            counts["split"] += 1
        if groups or any(m.message_pk not in (None, pk) for m in matches):
            earliest = conn.execute(sa.select(sa.func.min(sightings.c.internaldate)).where(sightings.c.message_pk == pk)).scalar_one()
            if earliest is not None and _utc(earliest) != _utc(received_at):
                conn.execute(sa.update(messages).where(messages.c.id == pk).values(received_at=_utc(earliest)))
    if counts["split"] or counts["kept_apart"]:
        log.warning(
            "migration 0003_identity: %d messages re-keyed, %d split out of a shared Message-ID, %d kept apart with the same content",
            counts["messages"], counts["split"], counts["kept_apart"],
        )
    return counts


def _split_out(conn: sa.Connection, first: int, identity: Identity, members: list[tuple[int, str, datetime]]) -> int:
    """A new message in ``fetched`` for mails stored as sightings of ``first``; return its number."""
    now = datetime.now(timezone.utc)
    _, digest, received = min(members, key=lambda m: m[2])
    defect = f"{MESSAGE_ID_COLLISION}: message {first} carries the same Message-ID with other content; this mail is a message of its own"
    new_pk = conn.execute(
        sa.insert(messages)
        .values(identity=identity.key, message_id=identity.message_id, fingerprint=identity.fingerprint, blob_sha256=digest, received_at=received,
                state="fetched", state_changed_at=now, attempts=0, created_at=now, defects=[defect])
        .returning(messages.c.id)
    ).scalar_one()
    conn.execute(sa.insert(transitions).values(message_pk=new_pk, from_state=None, to_state="fetched", at=now, actor=ACTOR,
                                               reason=f"split from message {first}: shared Message-ID, other content"))
    conn.execute(sa.update(sightings).where(sightings.c.id.in_([sid for sid, _, _ in members])).values(message_pk=new_pk))
    log.warning("message %d: split from message %d (shared Message-ID, other content); it will be handled now", new_pk, first)
    return int(new_pk)


def downgrade() -> None:
    conn = op.get_bind()
    taken: set[str] = set()
    rows = conn.execute(sa.select(messages.c.id, messages.c.message_id, messages.c.blob_sha256).order_by(messages.c.id)).all()
    for pk, message_id, digest in rows:
        old = f"mid:{message_id}" if message_id else f"sha:{digest}"
        if old in taken:
            old = f"{old}#{pk}"
        taken.add(old)
        conn.execute(sa.update(messages).where(messages.c.id == pk).values(identity=old))
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy would drop a table others point at
    op.drop_index("ix_messages_message_id", table_name="messages")
    op.drop_column("messages", "defects")
    op.drop_column("messages", "fingerprint")
