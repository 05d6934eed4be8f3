"""proposals: proposals, cosigners, attachments, timeline

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:05:36.910503
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['proposals.id'], name=op.f('fk_proposals_merged_into_id_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposer_id'], ['members.id'], name=op.f('fk_proposals_proposer_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index('ix_proposals_status_category', ['status', 'category'], unique=False)

    op.create_table('proposal_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('telegram_file_id', sa.String(length=255), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_attachments_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_attachments'))
    )
    with op.batch_alter_table('proposal_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_attachments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_cosigners',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_proposal_cosigners_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_cosigners_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'member_id', name=op.f('pk_proposal_cosigners'))
    )
    op.create_table('proposal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['members.id'], name=op.f('fk_proposal_events_actor_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_events_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_events'))
    )
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_events_proposal_id'), ['proposal_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_events_proposal_id'))

    op.drop_table('proposal_events')
    op.drop_table('proposal_cosigners')
    with op.batch_alter_table('proposal_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_attachments_proposal_id'))

    op.drop_table('proposal_attachments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_status_category')
        batch_op.drop_index(batch_op.f('ix_proposals_proposer_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_department'))

    op.drop_table('proposals')
