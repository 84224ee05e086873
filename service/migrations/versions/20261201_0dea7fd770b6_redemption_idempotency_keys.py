"""redemption idempotency keys

Revision ID: 0dea7fd770b6
Revises: c6c42906a87f
Create Date: 2026-12-01 21:00:00.000000

A redemption keeps the till's Idempotency-Key itself, unique per merchant client, so a retry is
answered with the earlier redemption even after the idempotency record was taken over (a first
attempt stalled past five minutes) or deleted (after 24 hours). Other ledger entries carry no key;
NULLs never collide in a unique constraint on either engine.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0dea7fd770b6"
down_revision = "c6c42906a87f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("voucher_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_voucher_ledger_client_id_idempotency_key"),
            ["client_id", "idempotency_key"],
        )


def downgrade():
    with op.batch_alter_table("voucher_ledger", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_voucher_ledger_client_id_idempotency_key"), type_="unique"
        )
        batch_op.drop_column("idempotency_key")
