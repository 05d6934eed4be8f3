"""notices to confidential senders wait for the batched sweep and leave no row once sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "Add a message" kept the letter id in the sender's conversation state; the step now lives
    # in memory. Forget the pointers left behind (abandoned ones stayed for weeks).
    op.execute("DELETE FROM fsm_states WHERE state = 'Writing:follow_up'")
    with op.batch_alter_table('mailbox_letters', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('sender_notice', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('forget', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('forget')
    with op.batch_alter_table('mailbox_letters', schema=None) as batch_op:
        batch_op.drop_column('sender_notice')
