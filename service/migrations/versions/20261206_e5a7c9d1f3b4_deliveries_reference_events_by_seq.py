"""deliveries reference events by seq

Revision ID: e5a7c9d1f3b4
Revises: d2f4a6c8e0b1
Create Date: 2026-12-06 21:30:00.000000

A webhook delivery referenced its event by the event's `evt_…` id, so the log kept a unique
index on that random id, which every event insert paid for (about a sixth of its time and of
its WAL: bench/README.md, the events overhead) and nothing else used. Deliveries now reference
the event's `seq`, the log's primary key, and keep the id beside it to name the delivery
(`webhook-id`); their unique (event, endpoint) pair, led by the event, serves the cascade, and
the log's unique index on `id` goes. Existing deliveries get their event's `seq`.

On SQLite both tables are rebuilt (batch mode), with foreign keys off (migrations/env.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5a7c9d1f3b4"
down_revision = "d2f4a6c8e0b1"
branch_labels = None
depends_on = None

SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_seq", SEQUENCE, nullable=True))
    op.execute(
        "UPDATE webhook_deliveries SET event_seq ="
        " (SELECT seq FROM events WHERE events.id = webhook_deliveries.event_id)"
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.alter_column("event_seq", existing_type=SEQUENCE, nullable=False)
        batch_op.drop_constraint("fk_webhook_deliveries_event_id_events", type_="foreignkey")
        batch_op.drop_constraint("uq_webhook_deliveries_endpoint_id_event_id", type_="unique")
        batch_op.drop_index("ix_webhook_deliveries_event_id")
        batch_op.create_foreign_key(
            op.f("fk_webhook_deliveries_event_seq_events"), "events", ["event_seq"], ["seq"],
            ondelete="CASCADE",
        )  # fmt: skip
        batch_op.create_unique_constraint(
            op.f("uq_webhook_deliveries_event_seq_endpoint_id"), ["event_seq", "endpoint_id"]
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_events_id", type_="unique")


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f("uq_events_id"), ["id"])
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_webhook_deliveries_event_seq_endpoint_id"), type_="unique"
        )
        batch_op.drop_constraint(op.f("fk_webhook_deliveries_event_seq_events"), type_="foreignkey")
        batch_op.create_index("ix_webhook_deliveries_event_id", ["event_id"], unique=False)
        batch_op.create_unique_constraint(
            op.f("uq_webhook_deliveries_endpoint_id_event_id"), ["endpoint_id", "event_id"]
        )
        batch_op.create_foreign_key(
            op.f("fk_webhook_deliveries_event_id_events"), "events", ["event_id"], ["id"],
            ondelete="CASCADE",
        )  # fmt: skip
        batch_op.drop_column("event_seq")
