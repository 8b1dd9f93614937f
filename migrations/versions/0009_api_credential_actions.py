"""API credentials' permitted actions and MD5 form of the secret; a ticket's flag

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:12:40

Each API credential may be limited to some actions (NULL: every ticket action, which is what
existing credentials keep) and may accept the MD5 of its secret (kept as a SHA-256 of that
digest; existing credentials have none, as their secrets are not known). A ticket may be
flagged to a staff member.

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_credential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_md5_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("allowed_actions", sa.Text(), nullable=True))

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged_staff_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_ticket_flagged_staff_id"), ["flagged_staff_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_ticket_flagged_staff_id",
            "staff_member",
            ["flagged_staff_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ticket_flagged_staff_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_ticket_flagged_staff_id"))
        batch_op.drop_column("flagged_staff_id")

    with op.batch_alter_table("api_credential", schema=None) as batch_op:
        batch_op.drop_column("allowed_actions")
        batch_op.drop_column("secret_md5_sha256")
