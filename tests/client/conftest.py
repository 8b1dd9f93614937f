"""Helpers for the client-area tests: tickets opened through the core, and signing in."""

import io

import pytest

from portal.extensions import db
from portal.tickets import IncomingFile, OpenTicketRequest, TicketSettings, open_ticket
from tests import factories


@pytest.fixture
def open_ticket_now(app):
    """Open a ticket through the core and commit it; returns the Ticket."""

    def opener(department, *, account=None, user=None, files=(), **fields):
        fields.setdefault("subject", "Printer on fire")
        fields.setdefault("message", "It is **really** on fire.")
        request = OpenTicketRequest(
            deptid=department.id,
            clientid=account.id if account else None,
            userid=user.id if user else None,
            name=None if account else "Gwen Guest",
            email=None if account else "gwen@example.com",
            uploads=[IncomingFile.from_bytes(name, data) for name, data in files],
            **fields,
        )
        opened = open_ticket(db.session, request, TicketSettings.from_config(app.config))
        db.session.commit()
        return opened

    return opener


@pytest.fixture
def log_in(client):
    """Sign a user in through the login form."""

    def signer(user, password=factories.PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 303, response.text
        return response

    return signer


def upload(name: str, data: bytes) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name
