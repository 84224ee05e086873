"""identity verifications, identities and their audit trail

Revision ID: 107a9c37554c
Revises: 083a7cc888d0
Create Date: 2026-11-25 03:38:46.741483

"""

import sqlalchemy as sa
from alembic import op

import service.dbtypes

# revision identifiers, used by Alembic.
revision = "107a9c37554c"
down_revision = "083a7cc888d0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identity_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("verification_id", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_events")),
    )
    with op.batch_alter_table("identity_events", schema=None) as batch_op:
        batch_op.create_index("ix_identity_events_user_at", ["user_id", "at"], unique=False)

    op.create_table(
        "identities",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("name_sealed", sa.Text(), nullable=False),
        sa.Column("id_number_sealed", sa.Text(), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("verification_id", sa.String(length=32), nullable=False),
        sa.Column("verified_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_identities")),
        sa.UniqueConstraint(
            "app_id", "id_number_hash", name=op.f("uq_identities_app_id_id_number_hash")
        ),
    )
    op.create_table(
        "identity_verifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fail_reason", sa.String(length=64), nullable=True),
        sa.Column("name_sealed", sa.Text(), nullable=True),
        sa.Column("id_number_sealed", sa.Text(), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("name_masked", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=32), nullable=True),
        sa.Column("return_url", sa.String(length=1024), nullable=False),
        sa.Column("certify_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", service.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_identity_verifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_verifications")),
        sa.UniqueConstraint(
            "user_id",
            "idempotency_key",
            name=op.f("uq_identity_verifications_user_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("identity_verifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_verifications_status_expires", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_identity_verifications_user_created", ["user_id", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("identity_verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_verifications_user_created")
        batch_op.drop_index("ix_identity_verifications_status_expires")

    op.drop_table("identity_verifications")
    op.drop_table("identities")
    with op.batch_alter_table("identity_events", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_events_user_at")

    op.drop_table("identity_events")
