"""design drafts, shared templates and template subscriptions

Revision ID: d4de5190e001
Revises: c0h0r7000001
Create Date: 2026-11-26 20:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'd4de5190e001'
down_revision = 'c0h0r7000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shared_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shared_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_shared_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['unit.id'], name=op.f('fk_shared_template_owner_unit_id_unit')),
    sa.ForeignKeyConstraint(['shared_by_id'], ['staff_user.id'], name=op.f('fk_shared_template_shared_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_template')),
    sa.UniqueConstraint('definition_id', name=op.f('uq_shared_template_definition_id'))
    )
    op.create_index(op.f('ix_shared_template_owner_unit_id'), 'shared_template', ['owner_unit_id'], unique=False)
    op.create_table('template_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('follow', sa.Boolean(), nullable=False),
    sa.Column('pinned_version', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_template_subscription_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_template_subscription_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_subscription')),
    sa.UniqueConstraint('unit_id', 'definition_id', name=op.f('uq_template_subscription_unit_id'))
    )
    op.create_index(op.f('ix_template_subscription_definition_id'), 'template_subscription', ['definition_id'], unique=False)
    op.create_index(op.f('ix_template_subscription_unit_id'), 'template_subscription', ['unit_id'], unique=False)
    op.create_table('design_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('based_on_version_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['based_on_version_id'], ['definition_version.id'], name=op.f('fk_design_draft_based_on_version_id_definition_version')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_design_draft_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_design_draft_unit_id_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_design_draft_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_design_draft'))
    )
    op.create_index(op.f('ix_design_draft_unit_id'), 'design_draft', ['unit_id'], unique=False)
    op.create_index('uq_design_draft_unit_definition', 'design_draft', ['unit_id', 'definition_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_design_draft_unit_definition', table_name='design_draft')
    op.drop_index(op.f('ix_design_draft_unit_id'), table_name='design_draft')
    op.drop_table('design_draft')
    op.drop_index(op.f('ix_template_subscription_unit_id'), table_name='template_subscription')
    op.drop_index(op.f('ix_template_subscription_definition_id'), table_name='template_subscription')
    op.drop_table('template_subscription')
    op.drop_index(op.f('ix_shared_template_owner_unit_id'), table_name='shared_template')
    op.drop_table('shared_template')
