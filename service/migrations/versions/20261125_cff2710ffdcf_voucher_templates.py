"""voucher templates

Revision ID: cff2710ffdcf
Revises: 979b749ac764
Create Date: 2026-11-25 02:20:01.194858

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "cff2710ffdcf"
down_revision = "979b749ac764"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "voucher_templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("face_value_fen", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("claim_window_hours", sa.Integer(), nullable=False),
        sa.Column("covers", sa.JSON(), nullable=False),
        sa.Column("max_quantity_per_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('item', 'stored_value')", name=op.f("ck_voucher_templates_kind_known")
        ),
        sa.CheckConstraint(
            "face_value_fen > 0", name=op.f("ck_voucher_templates_face_value_positive")
        ),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_voucher_templates_price_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_templates")),
    )


def downgrade():
    op.drop_table("voucher_templates")
