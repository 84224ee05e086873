"""vouchers and sending

Revision ID: 51ad7a4c4179
Revises: b7beffd12a42
Create Date: 2026-11-25 02:45:55.073573

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "51ad7a4c4179"
down_revision = "b7beffd12a42"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "vouchers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("gift_id", sa.String(length=32), nullable=False),
        sa.Column("template_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("face_value_fen", sa.Integer(), nullable=False),
        sa.Column("balance_fen", sa.Integer(), nullable=False),
        sa.Column("code_index", sa.String(length=64), nullable=False),
        sa.Column("code_sealed", sa.String(length=200), nullable=False),
        sa.Column("code_last4", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("balance_fen >= 0", name=op.f("ck_vouchers_balance_not_negative")),
        sa.ForeignKeyConstraint(["gift_id"], ["gifts.id"], name=op.f("fk_vouchers_gift_id_gifts")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_vouchers_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["voucher_templates.id"],
            name=op.f("fk_vouchers_template_id_voucher_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code_index", name=op.f("uq_vouchers_code_index")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vouchers_gift_id"), ["gift_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_owner_id"), ["owner_id"], unique=False)

    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sent_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("claim_token_index", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claim_token_sealed", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_gifts_claim_token_index"), ["claim_token_index"]
        )


def downgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_gifts_claim_token_index"), type_="unique")
        batch_op.drop_column("claim_token_sealed")
        batch_op.drop_column("claim_token_index")
        batch_op.drop_column("sent_at")

    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouchers_owner_id"))
        batch_op.drop_index(batch_op.f("ix_vouchers_gift_id"))

    op.drop_table("vouchers")
