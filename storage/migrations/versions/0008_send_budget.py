"""send budget shared by several instances

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 19:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('send_budget',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('next_slot_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_send_budget'))
    )


def downgrade() -> None:
    op.drop_table('send_budget')
