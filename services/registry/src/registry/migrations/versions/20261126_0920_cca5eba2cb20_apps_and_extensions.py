"""Applications and the dialed numbers they own (one owner per number).

Revision ID: cca5eba2cb20
Revises:
Create Date: 2026-11-26 09:20:21.977451
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cca5eba2cb20"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("name", name=op.f("uq_apps_name")),
    )
    op.create_table(
        "app_extensions",
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_extensions_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("extension", name=op.f("pk_app_extensions")),
    )
    op.create_index(op.f("ix_app_extensions_app_id"), "app_extensions", ["app_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_app_extensions_app_id"), table_name="app_extensions")
    op.drop_table("app_extensions")
    op.drop_table("apps")
