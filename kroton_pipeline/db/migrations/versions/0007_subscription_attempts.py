"""One active subscription per CPF: a person whose attempt ended without success may return.

``cpf`` is no longer unique on its own: ``(cpf, attempt_number)`` is, and a partial unique
index keeps at most one attempt per CPF outside the statuses that ended without success.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here (not imported from the models) so the migration stays what it was when written.
ACTIVE_ATTEMPT = "status NOT IN ('dropped', 'empty_course', 'failed', 'register_failed')"


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(
            sa.Column("attempt_number", sa.Integer(), nullable=False, server_default="1")
        )
        batch.drop_constraint("uq_subscriptions_cpf", type_="unique")
        batch.create_unique_constraint(
            "uq_subscriptions_cpf_attempt_number", ["cpf", "attempt_number"]
        )
    op.create_index(
        "uq_subscriptions_active_cpf",
        "subscriptions",
        ["cpf"],
        unique=True,
        postgresql_where=sa.text(ACTIVE_ATTEMPT),
        sqlite_where=sa.text(ACTIVE_ATTEMPT),
    )


def downgrade() -> None:
    # Refused when a CPF has come back: the old schema holds one subscription per CPF.
    bind = op.get_bind()
    returned = bind.execute(
        sa.text("SELECT count(*) FROM subscriptions WHERE attempt_number > 1")
    ).scalar()
    if returned:
        raise RuntimeError(
            f"{returned} subscriptions are later attempts of a CPF; the schema before 0007 "
            "cannot hold them"
        )
    op.drop_index("uq_subscriptions_active_cpf", table_name="subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("uq_subscriptions_cpf_attempt_number", type_="unique")
        batch.create_unique_constraint("uq_subscriptions_cpf", ["cpf"])
        batch.drop_column("attempt_number")
