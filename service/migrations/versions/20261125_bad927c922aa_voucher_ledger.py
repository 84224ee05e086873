"""voucher ledger

Revision ID: bad927c922aa
Revises: dcbd4e1fadfa
Create Date: 2026-11-25 02:57:41.812046

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "bad927c922aa"
down_revision = "dcbd4e1fadfa"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "voucher_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("voucher_id", sa.String(length=32), nullable=False),
        sa.Column("at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("balance_after_fen", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_ledger_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_ledger")),
    )
    with op.batch_alter_table("voucher_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_ledger_voucher_id"), ["voucher_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("voucher_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_ledger_voucher_id"))

    op.drop_table("voucher_ledger")
