"""a ticket's message stored rendered

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:10:00

A message is rendered once, when it is written, and its sanitised HTML stored with the
renderer's version (issue 24): a view costs a read, not a render. Tickets stored before have
no version and are rendered when shown, as before.

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'message_html',
                sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb'),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column('message_renderer', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('message_renderer')
        batch_op.drop_column('message_html')
