"""outbox rows written with the ticket

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:40:00

A ticket's messages are outbox rows written in the ticket's own transaction again (issue 21):
mail still waiting in a ticket's mail_queued column becomes its rows, then the column goes.

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    ticket = sa.table('ticket', sa.column('id', sa.Integer), sa.column('mail_queued', sa.String))
    outbox = sa.table(
        'outbox_message',
        *(sa.column(name, sa.String) for name in (
            'kind', 'sender', 'recipients', 'cc', 'message', 'status', 'last_error')),
        sa.column('ticket_id', sa.Integer),
        sa.column('attempts', sa.Integer),
        sa.column('next_attempt_at', sa.DateTime),
        sa.column('created_at', sa.DateTime),
    )
    connection = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    waiting = connection.execute(
        sa.select(ticket.c.id, ticket.c.mail_queued).where(ticket.c.mail_queued.is_not(None))
    ).all()
    rows = [
        {
            'ticket_id': ticket_id, 'kind': kind, 'sender': '', 'recipients': '', 'cc': '',
            'message': '', 'status': 'pending', 'attempts': 0, 'last_error': '',
            'next_attempt_at': now, 'created_at': now,
        }
        for ticket_id, kinds in waiting
        for kind in kinds.split()
    ]
    if rows:
        connection.execute(outbox.insert(), rows)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_ticket_mail_queued',
            sqlite_where=sa.text('mail_queued IS NOT NULL'),
            postgresql_where=sa.text('mail_queued IS NOT NULL'),
        )
        batch_op.drop_column('mail_queued')


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_queued', sa.String(length=80), nullable=True))
        batch_op.create_index(
            'ix_ticket_mail_queued',
            ['mail_queued'],
            unique=False,
            sqlite_where=sa.text('mail_queued IS NOT NULL'),
            postgresql_where=sa.text('mail_queued IS NOT NULL'),
        )
