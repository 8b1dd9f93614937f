"""Demo records for trying the portal out; looked up by natural keys, so reruns add nothing."""

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    AccountMembership,
    ClientAccount,
    Contact,
    CustomField,
    CustomFieldType,
    Department,
    Domain,
    Service,
    StaffMember,
    Ticket,
    User,
    utcnow,
)
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket
from portal.tickets.notes import NoteRequest, add_note
from portal.tickets.replies import ReplyRequest, add_reply

CLIENT_EMAIL = "demo.client@example.com"
CLIENT_PASSWORD = "demo-client-pass"  # noqa: S105 - demo only, printed on purpose
SECOND_ACCOUNT_EMAIL = "accounts@example.net"
STAFF_USERNAME = "admin"
STAFF_PASSWORD = "demo-admin-pass"  # noqa: S105 - demo only, printed on purpose

DEPARTMENTS: list[dict] = [
    dict(
        name="General Support",
        description="Questions about anything else.",
        email="support@example.com",
    ),
    dict(
        name="Technical Support",
        description="Servers, e-mail, websites and DNS.",
        email="tech@example.com",
        clients_only=True,
    ),
    dict(
        name="Abuse (internal)",
        description="Reached through a direct link only.",
        email="abuse@example.com",
        hidden=True,
    ),
    dict(
        name="Sales",
        description="Before you buy.",
        email="sales@example.com",
        prevent_client_closure=True,
    ),
]


DEMO_SUBJECT = "Website shows an error after the update"


def load(session: Session, settings: TicketSettings) -> Iterator[str]:
    """Create what is missing and yield lines that say how to sign in."""
    departments = {spec["name"]: _department(session, spec) for spec in DEPARTMENTS}
    technical = departments["Technical Support"]
    if not technical.custom_fields:
        session.add_all(
            [
                CustomField(
                    department=technical,
                    name="Server hostname",
                    field_type=CustomFieldType.TEXT,
                    required=True,
                    sort_order=1,
                ),
                CustomField(
                    department=technical,
                    name="Operating system",
                    field_type=CustomFieldType.DROPDOWN,
                    options="Debian,Ubuntu,Other",
                    sort_order=2,
                ),
                CustomField(
                    department=technical,
                    name="Internal triage note",
                    field_type=CustomFieldType.TEXT,
                    admin_only=True,
                    sort_order=3,
                ),
            ]
        )

    client = _first(session, ClientAccount, ClientAccount.email == CLIENT_EMAIL)
    if client is None:
        client = ClientAccount(
            first_name="Dana", last_name="Demo", company_name="Demo Ltd", email=CLIENT_EMAIL
        )
        session.add(client)
    user = _first(session, User, User.email == CLIENT_EMAIL)
    if user is None:
        user = User(first_name="Dana", last_name="Demo", email=CLIENT_EMAIL)
        user.set_password(CLIENT_PASSWORD)
        session.add(user)
        session.add(AccountMembership(client=client, user=user, is_owner=True))
        session.add(
            Contact(
                client=client,
                first_name="Chris",
                last_name="Contact",
                email="chris.contact@example.com",
            )
        )
        session.add(
            Service(client=client, product_name="Web Hosting Starter", domain="demo.example.com")
        )
        session.add(Domain(client=client, name="demo.example.com"))
        second = ClientAccount(
            first_name="Dana",
            last_name="Demo",
            company_name="Side Project",
            email=SECOND_ACCOUNT_EMAIL,
        )
        session.add(second)
        session.add(AccountMembership(client=second, user=user, is_owner=False))
        session.add(Service(client=second, product_name="VPS Small", domain="side.example.net"))

    staff = _first(session, StaffMember, StaffMember.username == STAFF_USERNAME)
    if staff is None:
        staff = StaffMember(
            username=STAFF_USERNAME, first_name="Sam", last_name="Staff", email="admin@example.com"
        )
        staff.set_password(STAFF_PASSWORD)
        session.add(staff)
    session.flush()
    ticket = _conversation(session, settings, departments["General Support"], client, staff)

    yield f"Departments: {', '.join(f'{d.id} {d.name}' for d in departments.values())}"
    yield f"Client account {client.id} ({client.display_name})"
    yield f"Client login: {CLIENT_EMAIL} / {CLIENT_PASSWORD}"
    yield f"Staff login: {STAFF_USERNAME} / {STAFF_PASSWORD}"
    yield f"A ticket with a conversation: #{ticket.tid} (code {ticket.access_code})"


def _conversation(
    session: Session,
    settings: TicketSettings,
    department: Department,
    client: ClientAccount,
    staff: StaffMember,
) -> Ticket:
    """A ticket with replies both ways and an internal note, through the core, sending nothing."""
    ticket = _first(
        session, Ticket, (Ticket.client_id == client.id) & (Ticket.subject == DEMO_SUBJECT)
    )
    if ticket is not None:
        return ticket
    start = utcnow() - timedelta(days=1)
    ticket = open_ticket(
        session,
        OpenTicketRequest(
            deptid=department.id,
            clientid=client.id,
            subject=DEMO_SUBJECT,
            message="Since last night's update, **demo.example.com** shows *Error 500*.",
            markdown=True,
            priority="High",
            created=start.strftime("%Y-%m-%d %H:%M:%S"),
            noemail=True,
        ),
        settings,
    )
    steps = [
        (staff, "Thanks, Dana. Could you tell us which page you opened first?", 2),
        (None, "The home page; every other page too.", 3),
        (staff, "Found it: a plug-in the update disabled. It is back on; please check.", 5),
    ]
    for author, message, hours in steps:
        add_reply(
            session,
            ticket,
            ReplyRequest(
                message=message,
                markdown=True,
                clientid=None if author else client.id,
                created=(start + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S"),
                noemail=True,
            ),
            settings,
            staff=author,
        )
    add_note(
        session,
        ticket,
        NoteRequest(message="The caching plug-in was off after the update.", markdown=True),
        settings,
        staff=staff,
    )
    return ticket


def _department(session: Session, spec: dict) -> Department:
    department = _first(session, Department, Department.name == spec["name"])
    if department is None:
        department = Department(**spec)
        session.add(department)
        session.flush()
    return department


def _first(session: Session, model, condition):
    return session.scalar(select(model).where(condition).order_by(model.id).limit(1))
