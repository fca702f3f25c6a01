"""canary probes

Revision ID: 0008_canary
Revises: 0007_going_live
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_canary"
down_revision = "0007_going_live"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canary_probes",
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("mailbox", sa.String(200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_pk", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
        sa.PrimaryKeyConstraint("nonce"),
        sa.UniqueConstraint("mailbox", "day", name="uq_canary_probe_night"),
    )


def downgrade() -> None:
    op.drop_table("canary_probes")
