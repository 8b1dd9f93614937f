"""The spec's example request succeeds against the demo data, as the README promises."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import ClientAccount, Department, Ticket
from tests.api.api_calls import API_URL, read_answer
from tests.api.test_open_ticket import SAMPLE_FILE_CONTENTS, SPEC_EXAMPLE_BODY


def test_the_spec_example_opens_a_ticket_on_the_demo_data(app, client, make):
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    general = db.session.scalar(select(Department).where(Department.name == "General Support"))
    demo_client = db.session.scalar(select(ClientAccount).order_by(ClientAccount.id))
    credential, secret = make.api_credential()
    # On a fresh database the demo's ids are 1, as in the example; a shared test database
    # has used ids before, so the example's ids are swapped for the demo's.
    body = (
        SPEC_EXAMPLE_BODY.replace(b"IDENTIFIER_OR_ADMIN_USERNAME", credential.identifier.encode())
        .replace(b"SECRET_OR_HASHED_PASSWORD", secret.encode())
        .replace(b"&deptid=1&", f"&deptid={general.id}&".encode())
        .replace(b"&clientid=1&", f"&clientid={demo_client.id}&".encode())
    )

    response = client.post(API_URL, data=body, content_type="application/x-www-form-urlencoded")

    answer = read_answer(response, "json")
    assert answer["result"] == "success", answer
    ticket = db.session.get(Ticket, int(answer["id"]))
    assert (ticket.department, ticket.client) == (general, demo_client)
    assert ticket.attachments[0].size == len(SAMPLE_FILE_CONTENTS)
