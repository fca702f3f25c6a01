"""reconcile runs; retention marks

Revision ID: 0005_reconcile
Revises: 0004_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_reconcile"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconcile_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clean", sa.Boolean(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.add_column("messages", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("register_entries", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of "messages" would break the foreign keys to it
    op.execute("ALTER TABLE register_entries DROP COLUMN closed_at")
    op.execute("ALTER TABLE messages DROP COLUMN purged_at")
    op.drop_table("reconcile_runs")
