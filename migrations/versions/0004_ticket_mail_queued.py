"""ticket mail_queued

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:10:00

A ticket's opening mail waits in the ticket's own row until delivery writes its outbox rows
(issue 8): the request that opens a ticket inserts one row instead of three.

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_queued', sa.String(length=80), nullable=True))
        batch_op.create_index(
            'ix_ticket_mail_queued',
            ['mail_queued'],
            unique=False,
            sqlite_where=sa.text('mail_queued IS NOT NULL'),
            postgresql_where=sa.text('mail_queued IS NOT NULL'),
        )


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_ticket_mail_queued',
            sqlite_where=sa.text('mail_queued IS NOT NULL'),
            postgresql_where=sa.text('mail_queued IS NOT NULL'),
        )
        batch_op.drop_column('mail_queued')
