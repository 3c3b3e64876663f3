"""Follow-ups keep the enrolment look-up's answer beside the inscription answer.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_doc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("enrolment_source", json_doc, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("enrolment_source")
