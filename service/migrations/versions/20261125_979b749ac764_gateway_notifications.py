"""gateway notifications

Revision ID: 979b749ac764
Revises: 44a0912a7e7c
Create Date: 2026-11-25 01:55:03.158053

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "979b749ac764"
down_revision = "44a0912a7e7c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "gateway_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notify_id", sa.String(length=128), nullable=False),
        sa.Column("notify_type", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("received_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_notifications")),
        sa.UniqueConstraint("notify_id", name=op.f("uq_gateway_notifications_notify_id")),
    )
    with op.batch_alter_table("gateway_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_notifications_notify_type"), ["notify_type"], unique=False
        )


def downgrade():
    with op.batch_alter_table("gateway_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_notifications_notify_type"))

    op.drop_table("gateway_notifications")
