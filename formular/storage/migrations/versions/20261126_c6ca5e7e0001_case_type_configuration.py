"""case type configuration (unit case types, standard replies, grants)

Revision ID: c6ca5e7e0001
Revises: d4de5190e001
Create Date: 2026-11-26 19:10:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c6ca5e7e0001'
down_revision = 'd4de5190e001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('standard_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_standard_reply_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_standard_reply_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_reply'))
    )
    op.create_index(op.f('ix_standard_reply_unit_id'), 'standard_reply', ['unit_id'], unique=False)
    op.create_table('unit_case_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('terms_text', sa.Text(), nullable=True),
    sa.Column('attachments_enabled', sa.Boolean(), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_case_type_unit_id_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_unit_case_type_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_case_type')),
    sa.UniqueConstraint('unit_id', 'definition_id', name=op.f('uq_unit_case_type_unit_id'))
    )
    op.create_index(op.f('ix_unit_case_type_unit_id'), 'unit_case_type', ['unit_id'], unique=False)
    op.create_table('case_type_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_case_type_grant_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['staff_user.id'], name=op.f('fk_case_type_grant_granted_by_id_staff_user')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['staff_user.id'], name=op.f('fk_case_type_grant_revoked_by_id_staff_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_case_type_grant_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_type_grant'))
    )
    op.create_index(op.f('ix_case_type_grant_citizen_id'), 'case_type_grant', ['citizen_id'], unique=False)
    op.create_index('ix_case_type_grant_lookup', 'case_type_grant', ['unit_id', 'definition_id', 'citizen_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_type_grant_lookup', table_name='case_type_grant')
    op.drop_index(op.f('ix_case_type_grant_citizen_id'), table_name='case_type_grant')
    op.drop_table('case_type_grant')
    op.drop_index(op.f('ix_unit_case_type_unit_id'), table_name='unit_case_type')
    op.drop_table('unit_case_type')
    op.drop_index(op.f('ix_standard_reply_unit_id'), table_name='standard_reply')
    op.drop_table('standard_reply')
