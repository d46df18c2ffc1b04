"""population imports and cohort invitations

Revision ID: c0h0r7000001
Revises: e7a1c0de0001
Create Date: 2026-11-26 20:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c0h0r7000001'
down_revision = 'e7a1c0de0001'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('population_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('unit_ids', JSON, nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('staged', JSON, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_population_import_created_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_import'))
    )
    with op.batch_alter_table('population_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_import_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_population_import_digest'), ['digest'], unique=False)

    op.create_table('cohort_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('send_out_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('age', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['send_out_id'], ['send_out.id'], name=op.f('fk_cohort_invitation_send_out_id_send_out'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_cohort_invitation_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_invitation')),
    sa.UniqueConstraint('send_out_id', name=op.f('uq_cohort_invitation_send_out_id'))
    )
    with op.batch_alter_table('cohort_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_invitation_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cohort_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_invitation_unit_id'))
    op.drop_table('cohort_invitation')
    with op.batch_alter_table('population_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_import_digest'))
        batch_op.drop_index(batch_op.f('ix_population_import_created_by_id'))
    op.drop_table('population_import')
