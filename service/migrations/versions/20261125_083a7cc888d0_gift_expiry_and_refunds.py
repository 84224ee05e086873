"""gift expiry and refunds

Revision ID: 083a7cc888d0
Revises: bad927c922aa
Create Date: 2026-11-25 03:03:15.522494

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "083a7cc888d0"
down_revision = "bad927c922aa"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_expires_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("refunded_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_gifts_status_claim_expires_at", ["status", "claim_expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_index("ix_gifts_status_claim_expires_at")
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("claim_expires_at")
