"""Erased people: keyed CPF digests of LGPD erasures, so their exports are refused.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_people",
        sa.Column("cpf_digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("cpf_digest", name=op.f("pk_erased_people")),
    )


class ErasuresWouldBeForgotten(RuntimeError):
    """Downgrading past this revision would forget who asked to be erased."""


def downgrade() -> None:
    # Without erased_people a later export would bring erased people back: refuse while the
    # table remembers anyone (empty it on purpose first if that is really meant).
    remembered = op.get_bind().execute(sa.text("SELECT count(*) FROM erased_people")).scalar()
    if remembered:
        raise ErasuresWouldBeForgotten(
            f"erased_people holds {remembered} erasure(s): downgrading below revision 0003 "
            "would let those people be imported again; refusing"
        )
    op.drop_table("erased_people")
