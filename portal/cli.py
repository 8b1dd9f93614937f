"""The `flask --app portal ...` commands: schema, demo data, staff accounts and API credentials."""

import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from portal import demo_data, held_uploads
from portal.api.credentials import create_api_credential
from portal.api.permissions import TICKET_ACTIONS, UnknownActions, parse_actions
from portal.extensions import db, register_migrations
from portal.mail.worker import send_mail_command
from portal.models import StaffMember
from portal.tickets import TicketSettings, idempotency


def register_commands(app: Flask) -> None:
    if click.get_current_context(silent=True) is not None:
        # Loaded by the `flask` command: its `db` group (Flask-Migrate's) needs the migrations.
        register_migrations(app)
    for command in (
        init_db,
        demo_data_command,
        create_staff,
        create_api_credential_command,
        send_mail_command,
        prune,
    ):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    if "migrate" not in current_app.extensions:
        register_migrations(current_app)
    from flask_migrate import upgrade

    upgrade()
    click.echo("Database schema is up to date.")


@click.command("demo-data")
def demo_data_command() -> None:
    """Add the demo departments, client, staff member and records (safe to run again)."""
    for line in demo_data.load(db.session(), TicketSettings.from_config(current_app.config)):
        click.echo(line)
    db.session.commit()


@click.command("create-staff")
@click.argument("username")
@click.option("--password", help="Chosen at random and printed when left out.")
@click.option("--email", default="")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
def create_staff(
    username: str, password: str | None, email: str, first_name: str, last_name: str
) -> None:
    """Create a staff member, or set the password of an existing one."""
    staff = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
    if staff is None:
        staff = StaffMember(
            username=username, email=email, first_name=first_name, last_name=last_name
        )
        db.session.add(staff)
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    staff.set_password(password)
    db.session.commit()
    click.echo(f"Staff member {username} (id {staff.id}) is ready.")
    if generated:
        click.echo(f"password: {password}")


@click.command("create-api-credential")
@click.argument("username")
@click.option("--allowed-ips", default="", help="Comma-separated addresses or networks.")
@click.option(
    "--actions",
    default=None,
    help="Comma-separated API actions it may call, e.g. openticket,getticket (default: all "
    "ticket actions).",
)
def create_api_credential_command(username: str, allowed_ips: str, actions: str | None) -> None:
    """Create an API credential acting for a staff member; the secret is shown only now."""
    staff = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
    if staff is None:
        raise click.ClickException(f"No staff member is called {username!r}.")
    permitted = None
    if actions is not None:
        try:
            permitted = parse_actions(actions)
        except UnknownActions as unknown:
            raise click.ClickException(
                f"Not an API action: {', '.join(unknown.names)}. "
                f"The actions are: {', '.join(TICKET_ACTIONS)}."
            ) from unknown
        if not permitted:
            raise click.ClickException("--actions names no action.")
    credential, secret = create_api_credential(
        db.session(), staff, allowed_ips=allowed_ips, actions=permitted
    )
    db.session.commit()
    click.echo(f"identifier: {credential.identifier}")
    click.echo(f"secret: {secret}")


@click.command("prune")
def prune() -> None:
    """Delete expired submission keys and abandoned held uploads (run daily, e.g. from cron)."""
    keys = idempotency.delete_expired(db.session())
    db.session.commit()
    drafts = held_uploads.prune_expired(
        Path(current_app.config["HELD_UPLOADS_DIR"]), current_app.config["HELD_UPLOADS_MAX_AGE"]
    )
    click.echo(f"Deleted {keys} expired submission keys and {drafts} abandoned held uploads.")
