"""events

Revision ID: b7d1e9c3a5f2
Revises: a1c3e5f7b9d2
Create Date: 2026-12-02 06:00:00.000000

The merchant event log: one row per change, written in the change's transaction, with the
partial index of the events the webhook fan-out has still to read.
"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "b7d1e9c3a5f2"
down_revision = "a1c3e5f7b9d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("created_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fanout_pending", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("id", name=op.f("uq_events_id")),
    )
    op.create_index("ix_events_type_seq", "events", ["type", "seq"])
    op.create_index("ix_events_object_id_seq", "events", ["object_id", "seq"])
    op.create_index(
        "ix_events_fanout_pending",
        "events",
        ["seq"],
        postgresql_where=sa.text("fanout_pending IS true"),
        sqlite_where=sa.text("fanout_pending IS 1"),
    )


def downgrade():
    op.drop_table("events")
