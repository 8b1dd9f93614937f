"""the conversation: replies, internal notes, and a ticket's last activity and closing

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:38:56

Replies and notes get their own tables; attachments, outbox rows and submission keys may name
a reply or a note. Existing tickets take their last reply time as their last update.

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=201), nullable=False),
    sa.Column('message', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mariadb').with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=False),
    sa.Column('message_html', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mariadb').with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=True),
    sa.Column('message_renderer', sa.String(length=80), nullable=True),
    sa.Column('editor', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_note_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=201), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('message', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mariadb').with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=False),
    sa.Column('message_html', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mariadb').with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=True),
    sa.Column('message_renderer', sa.String(length=80), nullable=True),
    sa.Column('editor', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_reply_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attachment_note_id'), ['note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_reply_id'), ['reply_id'], unique=False)
        batch_op.create_foreign_key('fk_attachment_note_id', 'ticket_note', ['note_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_attachment_reply_id', 'ticket_reply', ['reply_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_idempotency_key_note_id'), ['note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_idempotency_key_reply_id'), ['reply_id'], unique=False)
        batch_op.create_foreign_key('fk_idempotency_key_note_id', 'ticket_note', ['note_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_idempotency_key_reply_id', 'ticket_reply', ['reply_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_reply_id'), ['reply_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_message_reply_id', 'ticket_reply', ['reply_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('last_reply_name', sa.String(length=201), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('last_reply_staff', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('closed_by_name', sa.String(length=201), nullable=False, server_default='')
        )
    ticket = sa.table(
        'ticket',
        sa.column('name', sa.String),
        sa.column('last_reply_at', sa.DateTime),
        sa.column('last_reply_name', sa.String),
        sa.column('updated_at', sa.DateTime),
    )
    op.execute(
        ticket.update().values(updated_at=ticket.c.last_reply_at, last_reply_name=ticket.c.name)
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f('ix_ticket_updated_at'), ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_updated_at'))
        batch_op.drop_column('closed_by_name')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('last_reply_staff')
        batch_op.drop_column('last_reply_name')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_message_reply_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_reply_id'))
        batch_op.drop_column('reply_id')

    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_constraint('fk_idempotency_key_reply_id', type_='foreignkey')
        batch_op.drop_constraint('fk_idempotency_key_note_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_idempotency_key_reply_id'))
        batch_op.drop_index(batch_op.f('ix_idempotency_key_note_id'))
        batch_op.drop_column('note_id')
        batch_op.drop_column('reply_id')

    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_attachment_reply_id', type_='foreignkey')
        batch_op.drop_constraint('fk_attachment_note_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attachment_reply_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_note_id'))
        batch_op.drop_column('note_id')
        batch_op.drop_column('reply_id')

    # Dropping a table drops its indexes; MariaDB refuses to drop one its foreign key needs.
    op.drop_table('ticket_reply')
    op.drop_table('ticket_note')
