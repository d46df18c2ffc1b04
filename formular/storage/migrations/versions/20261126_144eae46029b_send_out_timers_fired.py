"""send-out timers fired

Revision ID: 144eae46029b
Revises: 7effba70b6e6
Create Date: 2026-11-26 17:21:27.734330
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '144eae46029b'
down_revision = '7effba70b6e6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('send_out', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timers_fired', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='[]', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('send_out', schema=None) as batch_op:
        batch_op.drop_column('timers_fired')

