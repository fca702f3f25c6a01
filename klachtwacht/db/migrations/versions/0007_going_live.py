"""going live: first poll of a folder, the mode of each plan, answered sightings, mode changes

Revision ID: 0007_going_live
Revises: 0006_review
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_going_live"
down_revision = "0006_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("folder_cursors", sa.Column("first_poll_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("plan_mode", sa.String(10), nullable=True))
    op.add_column("sightings", sa.Column("answered", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "mode_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("previous", sa.String(10), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mode_changes_mailbox", "mode_changes", ["mailbox"])


def downgrade() -> None:
    op.drop_index("ix_mode_changes_mailbox", table_name="mode_changes")
    op.drop_table("mode_changes")
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of "messages" would break the foreign keys to it
    op.execute("ALTER TABLE sightings DROP COLUMN answered")
    op.execute("ALTER TABLE messages DROP COLUMN plan_mode")
    op.execute("ALTER TABLE folder_cursors DROP COLUMN first_poll_at")
