"""gifts and their timelines

Revision ID: b7beffd12a42
Revises: a16a3c90a3b7
Create Date: 2026-11-25 02:33:23.507546

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "b7beffd12a42"
down_revision = "a16a3c90a3b7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "gifts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=32), nullable=False),
        sa.Column("template_id", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_fen", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("recipient_kind", sa.String(length=8), nullable=False),
        sa.Column("recipient_user_id", sa.String(length=32), nullable=True),
        sa.Column("recipient_phone_hash", sa.String(length=64), nullable=True),
        sa.Column("recipient_phone_masked", sa.String(length=16), nullable=True),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("cover", sa.String(length=40), nullable=False),
        sa.Column("send_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("trade_no", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_gifts_amount_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_gifts_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["recipient_user_id"], ["users.id"], name=op.f("fk_gifts_recipient_user_id_users")
        ),
        sa.ForeignKeyConstraint(["sender_id"], ["users.id"], name=op.f("fk_gifts_sender_id_users")),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["voucher_templates.id"],
            name=op.f("fk_gifts_template_id_voucher_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gifts")),
        sa.UniqueConstraint(
            "sender_id", "idempotency_key", name=op.f("uq_gifts_sender_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gifts_recipient_user_id"), ["recipient_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gifts_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index("ix_gifts_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "gift_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gift_id", sa.String(length=32), nullable=False),
        sa.Column("at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gift_id"], ["gifts.id"], name=op.f("fk_gift_events_gift_id_gifts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_events")),
    )
    with op.batch_alter_table("gift_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gift_events_gift_id"), ["gift_id"], unique=False)


def downgrade():
    with op.batch_alter_table("gift_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gift_events_gift_id"))

    op.drop_table("gift_events")
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_index("ix_gifts_status_send_at")
        batch_op.drop_index(batch_op.f("ix_gifts_sender_id"))
        batch_op.drop_index(batch_op.f("ix_gifts_recipient_user_id"))

    op.drop_table("gifts")
