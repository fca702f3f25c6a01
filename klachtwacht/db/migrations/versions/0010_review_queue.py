"""the review queue: messages by state and receipt, so the oldest waiting page is read from the index

Revision ID: 0010_review_queue
Revises: 0009_graph
"""

from __future__ import annotations

from alembic import op

revision = "0010_review_queue"
down_revision = "0009_graph"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_state_received", "messages", ["state", "received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_state_received", table_name="messages")
