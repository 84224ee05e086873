"""list ordering indexes

Revision ID: c4e8a2d6f1b3
Revises: b7d1e9c3a5f2
Create Date: 2026-12-02 07:00:00.000000

Every list pages newest first by keyset (service/pagination.py); these indexes serve the order
of the lists that had none: a sender's gifts, a wallet, a user's consents, the templates.
Credit checks, deposits and identity events already had theirs.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e8a2d6f1b3"
down_revision = "b7d1e9c3a5f2"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_voucher_templates_created", "voucher_templates", ["created_at", "id"]),
    ("ix_gifts_sender_created", "gifts", ["sender_id", "created_at", "id"]),
    ("ix_vouchers_owner_issued", "vouchers", ["owner_id", "issued_at", "id"]),
    ("ix_credit_consents_user_granted", "credit_consents", ["user_id", "granted_at", "id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
