"""gift payment checks: refused notifications, learned platform facts, gifts in review,
refunds left to an operator

Revision ID: 5b2f8e41c0d7
Revises: 3f8d2b6c1e47
Create Date: 2026-12-01 21:00:00

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "5b2f8e41c0d7"
down_revision = "3f8d2b6c1e47"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("gateway_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusal", sa.String(length=32), nullable=True))
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_reason", sa.String(length=32), nullable=True))
    op.create_table(
        "platform_facts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("learned_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_facts")),
    )
    op.create_table(
        "operator_refunds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gift_id", sa.String(length=32), nullable=False),
        sa.Column("trade_no", sa.String(length=64), nullable=True),
        sa.Column("out_request_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("refusal", sa.String(length=64), nullable=False),
        sa.Column("queued_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["gift_id"], ["gifts.id"], name=op.f("fk_operator_refunds_gift_id_gifts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_refunds")),
        sa.UniqueConstraint("out_request_no", name=op.f("uq_operator_refunds_out_request_no")),
    )
    with op.batch_alter_table("operator_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_refunds_gift_id"), ["gift_id"], unique=False)


def downgrade():
    with op.batch_alter_table("operator_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_refunds_gift_id"))
    op.drop_table("operator_refunds")
    op.drop_table("platform_facts")
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_column("review_reason")
    with op.batch_alter_table("gateway_notifications", schema=None) as batch_op:
        batch_op.drop_column("refusal")
