"""Helpers for calling the OpenTicket core directly, as every door does."""

import base64
import json

import pytest

from portal.extensions import db
from portal.tickets import OpenTicketError, OpenTicketRequest, open_ticket


def encode_attachments(*files: tuple[str, bytes]) -> str:
    """The spec's attachments parameter: base64 of a JSON array of {name, data}."""
    items = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    return base64.b64encode(json.dumps(items).encode()).decode()


@pytest.fixture
def department(make):
    return make.department()


@pytest.fixture
def guest_request(department):
    """A valid guest request; tests change one thing at a time."""

    def build(**changes) -> OpenTicketRequest:
        fields = dict(
            deptid=str(department.id),
            subject="Printer on fire",
            message="It is *really* on fire.",
            name="Gus Guest",
            email="gus@example.com",
        )
        fields.update(changes)
        return OpenTicketRequest(**fields)

    return build


@pytest.fixture
def open_(settings):
    """open_ticket on the test session, committed on success and rolled back on error."""

    def call(request: OpenTicketRequest, **options):
        try:
            opened = open_ticket(db.session, request, settings, **options)
        except OpenTicketError:
            db.session.rollback()
            raise
        db.session.commit()
        return opened

    return call


def refusal(open_, request: OpenTicketRequest, **options) -> str:
    with pytest.raises(OpenTicketError) as refused:
        open_(request, **options)
    return refused.value.message
