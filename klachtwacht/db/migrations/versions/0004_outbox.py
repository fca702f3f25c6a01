"""outbox: each planned effect carries what its performer needs

Revision ID: 0004_outbox
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_outbox'
down_revision = '0003_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('effects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('effects', schema=None) as batch_op:
        batch_op.drop_column('payload')
