"""the Graph mailbox source: the delta link of a folder cursor

Revision ID: 0009_graph
Revises: 0008_canary
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_graph"
down_revision = "0008_canary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("folder_cursors") as batch:
        batch.add_column(sa.Column("delta_link", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("folder_cursors") as batch:
        batch.drop_column("delta_link")
