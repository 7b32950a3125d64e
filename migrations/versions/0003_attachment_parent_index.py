"""Index captured attachments by the KB article (or other parent) that lists them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX events_by_parent ON events "
        "(migration_id, ((payload->'record'->>'parent_object')), "
        "((payload->'record'->>'parent_id'))) "
        "WHERE type = 'SourceCaptured' AND object = 'attachment'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_by_parent")
