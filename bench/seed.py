"""Records the benchmarks need: departments, a client with a service, an API credential, tickets.

Written through the portal's own models and open_ticket(), on a database migrated with the
portal's migrations, so that the benchmark measures the schema that ships.
"""

import base64
import json
import secrets
import sqlite3
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask_migrate import upgrade

from portal import create_app
from portal.api.credentials import create_api_credential
from portal.extensions import db, register_migrations
from portal.models import (
    AccountMembership,
    ClientAccount,
    CustomField,
    CustomFieldType,
    Department,
    Service,
    StaffMember,
    User,
)
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket

GUEST_DEPARTMENT_EMAIL = "guests@example.com"
CLIENT_DEPARTMENT_EMAIL = "clients@example.com"
CLIENT_EMAIL = "bc@example.com"


@dataclass(frozen=True)
class Seeded:
    guest_department: int
    client_department: int
    custom_field: int
    client: int
    service: int
    identifier: str
    secret: str


def portal_app(environment: dict[str, str]):
    """The portal configured as gunicorn will see it, from the same PORTAL_* values, except that
    mail is not delivered after commits: in process, that delivery's threads would wait on the
    seeding's open write transaction, and would add their own work to the data-scale timings."""
    config = {key.removeprefix("PORTAL_"): value for key, value in environment.items()}
    return create_app({**config, "MAIL_DELIVER_AFTER_COMMIT": False})


def seed_portal(environment: dict[str, str]) -> Seeded:
    app = portal_app(environment)
    register_migrations(app)
    with app.app_context():
        upgrade()
        # Both with an address, as a demo department has: each ticket then also sends the
        # department its "new ticket" notice.
        guests = Department(name="Bench guests", email=GUEST_DEPARTMENT_EMAIL)
        clients = Department(name="Bench clients", email=CLIENT_DEPARTMENT_EMAIL)
        field = CustomField(department=clients, name="Hostname", field_type=CustomFieldType.TEXT)
        account = ClientAccount(first_name="Bench", last_name="Client", email=CLIENT_EMAIL)
        owner = User(first_name="Bench", last_name="Client", email=CLIENT_EMAIL)
        service = Service(client=account, product_name="Web Hosting", domain="bench.example.com")
        staff = StaffMember(username="bench", email="bench@example.com")
        staff.set_password(secrets.token_urlsafe(16))
        db.session.add_all([guests, clients, field, account, owner, service, staff])
        db.session.add(AccountMembership(client=account, user=owner, is_owner=True))
        credential, secret = create_api_credential(db.session, staff)
        db.session.commit()
        seeded = Seeded(
            guest_department=guests.id,
            client_department=clients.id,
            custom_field=field.id,
            client=account.id,
            service=service.id,
            identifier=credential.identifier,
            secret=secret,
        )
        db.session.remove()
        db.engine.dispose()
    return seeded


def portal_tickets(environment: dict[str, str], department: int, count: int) -> list[tuple]:
    """Guest tickets opened through the core; (tid, access code, subject) of each.

    They queue no mail: the running portal's periodic sweep would otherwise write their
    messages during a measured round, among the files counted for that round's tickets.
    """
    app = portal_app(environment)
    opened = []
    with app.app_context():
        settings = TicketSettings.from_config(app.config)
        for number in range(count):
            request = OpenTicketRequest(
                deptid=str(department),
                subject=f"Viewed ticket {number}",
                message="A message of a few lines.\n" * 5,
                name="Vera Viewer",
                email="vera@example.com",
                noemail=True,
            )
            ticket = open_ticket(db.session, request, settings)
            opened.append((ticket.tid, ticket.access_code, request.subject))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return opened


def ceiling_tickets(database: Path, count: int) -> list[tuple]:
    """Rows for the ceiling's view, shaped like the portal's tickets."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    rows = []
    for number in range(count):
        tid = "".join(secrets.choice(string.ascii_uppercase) for _ in range(3))
        tid += f"-{number:06d}"
        rows.append((tid, secrets.token_urlsafe(6)[:8], f"Viewed ticket {number}"))
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO ceiling_ticket (tid, access_code, department_id, name, email, subject,"
            " message, created_at) VALUES (?, ?, 1, 'Vera Viewer', 'vera@example.com', ?, ?, ?)",
            [
                (tid, code, subject, "A message of a few lines.\n" * 5, now)
                for tid, code, subject in rows
            ],
        )
    return rows


def custom_fields_parameter(values: dict[int, str]) -> str:
    """OpenTicket's customfields: base64 of a JSON object of field id to value."""
    return base64.b64encode(json.dumps({str(k): v for k, v in values.items()}).encode()).decode()
