"""One client's records stay out of another's reach: what tests/client and tests/api do not try."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from portal.tickets import IncomingFile, OpenTicketRequest, open_ticket
from tests.factories import PASSWORD
from tests.security.conftest import answer, ticket_count


@pytest.fixture
def accounts(make):
    """Two client accounts, each with a user, a contact, a service and a domain."""
    pair = []
    for _ in range(2):
        account = make.client_account()
        make.contact(account)
        make.service(account)
        make.domain(account)
        pair.append(account)
    return pair


def signed_in(app, user):
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    return browser


def test_client_form_ignores_forged_api_parameters_naming_another_account(
    app, department, accounts
):
    mine, theirs = accounts
    browser = signed_in(app, mine.owner)

    response = browser.post(
        "/submitticket",
        data={
            "deptid": department.id,
            "account_id": mine.id,
            "subject": "S",
            "message": "M",
            "clientid": theirs.id,
            "userid": theirs.owner.id,
            "contactid": theirs.contacts[0].id,
            "serviceid": theirs.services[0].id,
            "domainid": theirs.domains[0].id,
        },
    )

    assert response.status_code == 303
    db.session.rollback()
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.client_id, ticket.user_id) == (mine.id, mine.owner.id)
    assert ticket.contact_id is ticket.service_id is ticket.domain_id is None


def test_another_accounts_attachment_is_not_reached_through_your_own_ticket(
    app, department, accounts, settings
):
    mine, theirs = accounts
    own = opened(settings, department, mine)
    foreign = opened(settings, department, theirs, files=[("secret.txt", b"secret")])
    browser = signed_in(app, mine.owner)

    response = browser.get(
        f"/viewticket/attachment/{foreign.attachments[0].id}?tid={own.tid}&c={own.access_code}"
    )
    listing = browser.get("/tickets").text

    assert response.status_code == 404 and b"secret" not in response.data
    assert foreign.tid not in listing and own.tid in listing


def opened(settings, department, account, files=()):

    request = OpenTicketRequest(
        deptid=department.id,
        clientid=account.id,
        subject="S",
        message="M",
        uploads=[IncomingFile.from_bytes(name, data) for name, data in files],
    )
    ticket = open_ticket(db.session, request, settings)
    db.session.commit()
    return ticket


@pytest.mark.parametrize(
    ("parameter", "record", "message"),
    [
        ("serviceid", lambda account: account.services[0], "Service ID Not Found"),
        ("domainid", lambda account: account.domains[0], "Domain ID Not Found"),
        ("contactid", lambda account: account.contacts[0], "Contact ID Not Found"),
        (
            "userid",
            lambda account: account.owner,
            "The system cannot find the provided user ID.",
        ),
    ],
)
def test_the_api_refuses_another_clients_record(
    call_api, department, accounts, parameter, record, message
):
    mine, theirs = accounts
    fields = {"deptid": department.id, "clientid": mine.id, "subject": "S", "message": "M"}

    response = call_api({**fields, parameter: record(theirs).id})

    assert answer(response) == {"result": "error", "message": message}
    assert ticket_count() == 0
    assert answer(call_api({**fields, parameter: record(mine).id}))["result"] == "success"
