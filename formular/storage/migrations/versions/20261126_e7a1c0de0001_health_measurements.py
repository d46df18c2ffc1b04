"""health measurements (staff-entered values of a health check)

Revision ID: e7a1c0de0001
Revises: 4d58058943a6
Create Date: 2026-11-26 19:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'e7a1c0de0001'
down_revision = '4d58058943a6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('health_measurement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('definition_version_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_health_measurement_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_health_measurement_citizen_id_citizen')),
    sa.ForeignKeyConstraint(['definition_version_id'], ['definition_version.id'], name=op.f('fk_health_measurement_definition_version_id_definition_version')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['staff_user.id'], name=op.f('fk_health_measurement_entered_by_id_staff_user')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_health_measurement_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_measurement')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_health_measurement_assignment_id'))
    )
    with op.batch_alter_table('health_measurement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_measurement_citizen_id'), ['citizen_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('health_measurement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_measurement_citizen_id'))
    op.drop_table('health_measurement')
