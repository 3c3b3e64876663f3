"""Subscriptions keep the end of their offer's inscription window, for tracking; leads the
earlier schedule stopped following are followed again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("intake_ends_on", sa.Date(), nullable=True))
    # Leads the earlier fixed schedule stopped following after day 39, silently: they are
    # followed again (from today) until their intake is over.
    op.execute(
        "UPDATE subscriptions SET next_check_on = CURRENT_DATE "
        "WHERE status IN ('registered', 'awaiting_register') AND next_check_on IS NULL "
        "AND last_check IS NOT NULL AND cpf NOT LIKE 'X%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("intake_ends_on")
