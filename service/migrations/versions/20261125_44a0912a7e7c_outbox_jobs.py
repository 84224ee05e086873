"""outbox jobs

Revision ID: 44a0912a7e7c
Revises: 148620ffc054
Create Date: 2026-11-25 01:46:03.984442

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "44a0912a7e7c"
down_revision = "148620ffc054"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", sa.String(length=80), nullable=True),
        sa.Column("lease_expires_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_jobs_dedupe_key")),
    )
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_jobs_status_run_at", ["status", "run_at"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_jobs_status_run_at")

    op.drop_table("outbox_jobs")
