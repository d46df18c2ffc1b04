"""cases: case drafts, cases, their messages, attachments and history (issue #6)

Revision ID: c6ca5e000002
Revises: c6ca5e7e0001
Create Date: 2026-11-26 19:00:20.164963
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c6ca5e000002'
down_revision = 'c6ca5e7e0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_version_id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('created_by_citizen_id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('terms_accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_case_draft_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['created_by_citizen_id'], ['citizen.id'], name=op.f('fk_case_draft_created_by_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['definition_version_id'], ['definition_version.id'], name=op.f('fk_case_draft_definition_version_id_definition_version')),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], name=op.f('fk_case_draft_draft_id_draft'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_case_draft_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_draft')),
    sa.UniqueConstraint('draft_id', name=op.f('uq_case_draft_draft_id')),
    sa.UniqueConstraint('token', name=op.f('uq_case_draft_token'))
    )
    with op.batch_alter_table('case_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_draft_citizen_id'), ['citizen_id'], unique=False)

    op.create_table('citizen_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('created_by_citizen_id', sa.Integer(), nullable=False),
    sa.Column('definition_version_id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('timers_fired', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='[]', nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['staff_user.id'], name=op.f('fk_citizen_case_assigned_to_id_staff_user')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_citizen_case_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['created_by_citizen_id'], ['citizen.id'], name=op.f('fk_citizen_case_created_by_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['definition_version_id'], ['definition_version.id'], name=op.f('fk_citizen_case_definition_version_id_definition_version')),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], name=op.f('fk_citizen_case_draft_id_draft')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_citizen_case_submission_id_submission')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_citizen_case_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizen_case')),
    sa.UniqueConstraint('draft_id', name=op.f('uq_citizen_case_draft_id')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_citizen_case_submission_id')),
    sa.UniqueConstraint('token', name=op.f('uq_citizen_case_token'))
    )
    with op.batch_alter_table('citizen_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citizen_case_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_citizen_case_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index('ix_citizen_case_unit_state', ['unit_id', 'state'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=30), nullable=True),
    sa.Column('to_state', sa.String(length=30), nullable=True),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['citizen_case.id'], name=op.f('fk_case_event_case_id_citizen_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)

    op.create_table('case_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('author_staff_id', sa.Integer(), nullable=True),
    sa.Column('author_citizen_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply_answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_by_citizen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_citizen_id'], ['citizen.id'], name=op.f('fk_case_message_author_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['author_staff_id'], ['staff_user.id'], name=op.f('fk_case_message_author_staff_id_staff_user')),
    sa.ForeignKeyConstraint(['case_id'], ['citizen_case.id'], name=op.f('fk_case_message_case_id_citizen_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_message'))
    )
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_message_case_id'), ['case_id'], unique=False)

    op.create_table('case_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('author_kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['citizen_case.id'], name=op.f('fk_case_attachment_case_id_citizen_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['case_message.id'], name=op.f('fk_case_attachment_message_id_case_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachment')),
    sa.UniqueConstraint('token', name=op.f('uq_case_attachment_token'))
    )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachment_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_attachment_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachment_message_id'))
        batch_op.drop_index(batch_op.f('ix_case_attachment_case_id'))

    op.drop_table('case_attachment')
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_message_case_id'))

    op.drop_table('case_message')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('citizen_case', schema=None) as batch_op:
        batch_op.drop_index('ix_citizen_case_unit_state')
        batch_op.drop_index(batch_op.f('ix_citizen_case_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_citizen_case_assigned_to_id'))

    op.drop_table('citizen_case')
    with op.batch_alter_table('case_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_draft_citizen_id'))

    op.drop_table('case_draft')
