"""deposit problems and review

Revision ID: 3f8d2b6c1e47
Revises: 0dea7fd770b6
Create Date: 2026-12-01 21:20:00.000000

A deposit records why Minifin released it on its own (the freeze was paid by someone else, or
arrived after the deposit expired) or parked it for an operator (`needs_review`: the platform
reported amounts that do not add up). Listing what needs review reads (status, created_at).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3f8d2b6c1e47"
down_revision = "0dea7fd770b6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("credit_deposits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problem", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("problem_detail", sa.String(length=256), nullable=True))
        batch_op.create_index(
            "ix_credit_deposits_status_created", ["status", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("credit_deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_deposits_status_created")
        batch_op.drop_column("problem_detail")
        batch_op.drop_column("problem")
