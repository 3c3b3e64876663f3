"""Staging tables for the Databricks job's direct hand-off: incoming_leads and
incoming_batches.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPORT_COLUMNS = (
    "cpf", "user_name", "gender", "birthday", "email", "area_code", "phone_number", "cep",
    "street", "number", "city", "uf", "course_name", "unit_id", "course_type", "modality",
    "monthly_price", "capture_period", "system", "campus",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "incoming_batches",
        sa.Column("import_date", sa.Date(), nullable=False),
        sa.Column(
            "row_count", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("import_date", name=op.f("pk_incoming_batches")),
    )
    op.create_table(
        "incoming_leads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("import_date", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=True) for name in EXPORT_COLUMNS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_leads")),
    )
    op.create_index(
        op.f("ix_incoming_leads_import_date"), "incoming_leads", ["import_date"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_incoming_leads_import_date"), table_name="incoming_leads")
    op.drop_table("incoming_leads")
    op.drop_table("incoming_batches")
