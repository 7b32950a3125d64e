"""Index captured replies, notes and attachments by their ticket id.

The write engine loads a ticket's whole thread from the ledger in one indexed query.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX events_by_ticket ON events "
        "(migration_id, ((payload->'record'->>'ticket_id'))) "
        "WHERE type = 'SourceCaptured'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_by_ticket")
