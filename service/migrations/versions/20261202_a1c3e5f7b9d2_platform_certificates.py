"""platform certificates

Revision ID: a1c3e5f7b9d2
Revises: 7e3b2f9a1c05
Create Date: 2026-12-02 02:00:00.000000

Certificate mode: the platform certificates the gateway client downloaded when an answer named
an SN it did not hold (the platform rotated), kept by SN so every process trusts them.
"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "a1c3e5f7b9d2"
down_revision = "7e3b2f9a1c05"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "platform_certificates",
        sa.Column("sn", sa.String(length=64), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("fetched_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sn", name=op.f("pk_platform_certificates")),
    )


def downgrade():
    op.drop_table("platform_certificates")
