"""gift claims

Revision ID: dcbd4e1fadfa
Revises: 51ad7a4c4179
Create Date: 2026-11-25 02:52:06.190683

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "dcbd4e1fadfa"
down_revision = "51ad7a4c4179"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_gifts_claimed_by_users"), "users", ["claimed_by"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_gifts_claimed_by_users"), type_="foreignkey")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
