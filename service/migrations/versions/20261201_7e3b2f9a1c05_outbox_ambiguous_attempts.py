"""outbox ambiguous attempts

Revision ID: 7e3b2f9a1c05
Revises: 5b2f8e41c0d7
Create Date: 2026-12-01 21:00:00.000000

Template messages have no idempotency key on the platform, so a message retried after a timeout
whose first attempt arrived is delivered twice. The outbox counts the attempts whose outcome is
unknown, so the message handler can allow at most one retry after such an attempt.

Jobs already done lose their payloads, as every job does from now on when it is done: the
messages' payloads held the recipient's claim link, a bearer secret, in clear.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7e3b2f9a1c05"
down_revision = "5b2f8e41c0d7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ambiguous_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE outbox_jobs SET payload = '{}' WHERE status = 'done'")


def downgrade():
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.drop_column("ambiguous_attempts")
