"""gifts sent_at index

Revision ID: d4c1e9a27b63
Revises: 5e1c0a7d9b42
Create Date: 2026-11-25 10:20:00.000000

The sending metrics (gifts sent and their lateness over the last minutes) read a range of
`sent_at` at every scrape; without an index that is a scan of every gift ever bought.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d4c1e9a27b63"
down_revision = "5e1c0a7d9b42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.create_index("ix_gifts_sent_at", ["sent_at"], unique=False)


def downgrade():
    with op.batch_alter_table("gifts", schema=None) as batch_op:
        batch_op.drop_index("ix_gifts_sent_at")
