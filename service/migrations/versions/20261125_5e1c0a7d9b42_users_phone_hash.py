"""users phone hash, gift lookups by phone hash and claimant

Revision ID: 5e1c0a7d9b42
Revises: 107a9c37554c
Create Date: 2026-11-25 09:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e1c0a7d9b42"
down_revision = "107a9c37554c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_phone_hash"), ["phone_hash"], unique=False)
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gifts_recipient_phone_hash"), ["recipient_phone_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gifts_claimed_by"), ["claimed_by"], unique=False)


def downgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gifts_claimed_by"))
        batch_op.drop_index(batch_op.f("ix_gifts_recipient_phone_hash"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_phone_hash"))
        batch_op.drop_column("phone_hash")
