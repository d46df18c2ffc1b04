"""translation edits and catalog version

Revision ID: 4d58058943a6
Revises: 144eae46029b
Create Date: 2026-11-26 18:13:24.295932
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '4d58058943a6'
down_revision = '144eae46029b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('translation_catalog_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_catalog_version'))
    )
    op.create_table('translation_edit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('context', sa.String(length=500), nullable=False),
    sa.Column('msgid', sa.Text(), nullable=False),
    sa.Column('msgid_plural', sa.Text(), nullable=True),
    sa.Column('msgstr', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('based_on_source', sa.Text(), nullable=False),
    sa.Column('comments', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['staff_user.id'], name=op.f('fk_translation_edit_updated_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_edit')),
    sa.UniqueConstraint('domain', 'locale', 'key', name=op.f('uq_translation_edit_domain'))
    )
    op.bulk_insert(sa.table('translation_catalog_version', sa.column('id', sa.Integer()),
                           sa.column('version', sa.Integer())), [{'id': 1, 'version': 0}])


def downgrade() -> None:
    op.drop_table('translation_edit')
    op.drop_table('translation_catalog_version')
