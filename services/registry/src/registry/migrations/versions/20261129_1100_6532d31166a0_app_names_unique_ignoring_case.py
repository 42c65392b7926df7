"""App names are unique ignoring case: a unique index on lower(name).

The registry refuses a name that differs from an existing one only in case; this index makes the
database refuse it too, so two concurrent writers cannot both get one in.

Revision ID: 6532d31166a0
Revises: cca5eba2cb20
Create Date: 2026-11-29 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6532d31166a0"
down_revision: str | None = "cca5eba2cb20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_apps_lower_name"


def upgrade() -> None:
    clashes = op.get_bind().execute(
        sa.text(
            "SELECT name FROM apps WHERE lower(name) IN "
            "(SELECT lower(name) FROM apps GROUP BY lower(name) HAVING count(*) > 1) ORDER BY name"
        )
    )
    names = [row[0] for row in clashes]
    if names:  # which app to keep is the operator's call, not a migration's
        raise RuntimeError(
            f"app names that differ only in case: {', '.join(names)}; delete all but one of each "
            "(DELETE /apps/<name>) and start the registry again"
        )
    op.create_index(INDEX, "apps", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="apps")
