"""the review app: accounts, sessions, audit log, decisions, steekproef

Revision ID: 0006_review
Revises: 0005_reconcile
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_review"
down_revision = "0005_reconcile"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(300), nullable=True),
        sa.Column("oidc_tid", sa.String(100), nullable=True),
        sa.Column("oidc_oid", sa.String(100), nullable=True),
        sa.Column("disabled_at", _tz(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _tz(), nullable=True),
        sa.Column("created_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("oidc_tid", "oidc_oid", name="uq_users_oidc"),
    )
    op.create_table(
        "user_mailboxes",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("mailbox", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "mailbox"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf", sa.String(100), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("last_seen", _tz(), nullable=False),
        sa.Column("revoked_at", _tz(), nullable=True),
        sa.Column("origin", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("object", sa.String(200), nullable=True),
        sa.Column("result", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_pk", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("predicted_label", sa.String(20), nullable=True),
        sa.Column("predicted_subtype", sa.String(40), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("final_label", sa.String(20), nullable=False),
        sa.Column("final_subtype", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("answerer", sa.String(200), nullable=True),
        sa.Column("previous_state", sa.String(20), nullable=True),
        sa.Column("undone_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_decisions_message_pk", "review_decisions", ["message_pk"])
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_pk", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("drawn_at", _tz(), nullable=False),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("review_decisions.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_pk"),
    )


def downgrade() -> None:
    for table in ("samples", "review_decisions", "audit_log", "web_sessions", "user_mailboxes", "users"):
        op.drop_table(table)
