"""notice quota

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:20:08.479145
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_quota',
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('recipient', 'day')
    )


def downgrade() -> None:
    op.drop_table('notice_quota')
