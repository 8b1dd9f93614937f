"""session generation of users and staff members

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:20:00

Signing out and a new password end every session of the account (issue 24): a session keeps
the account's session generation from its sign-in and opens nothing once the number moved on.
Sessions signed in before this revision carry no number and end once.

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ('user', 'staff_member')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False)
            )


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('session_generation')
