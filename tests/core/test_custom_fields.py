"""Custom fields: decoding the API's parameter, and the department's rules for the web forms."""

import base64
import json

import phpserialize
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import CustomFieldType, CustomFieldValue
from portal.tickets import OpenTicketError
from portal.tickets.parameters import decode_custom_fields
from tests.core.conftest import refusal


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        (b64(phpserialize.dumps({3: "three", "4": "four"})), {3: "three", 4: "four"}),
        (b64(b'a:1:{i:7;s:6:"\xf0\x9f\x94\xa5ok";}'), {7: "🔥ok"}),
        (b64(json.dumps({"5": "five", "6": 6}).encode()), {5: "five", 6: "6"}),
        (b64(phpserialize.dumps({1: True, 2: None})), {1: "on", 2: ""}),
        # WHMCS ignores what it cannot decode.
        ("%%% not base64 %%%", {}),
        (b64(b"not serialized, not json"), {}),
        (b64(json.dumps(["a", "list"]).encode()), {}),
        ("", {}),
        (None, {}),
        # Keys that cannot name a field are dropped.
        (b64(phpserialize.dumps({"x": "1", 0: "2", -3: "3"})), {}),
    ],
)
def test_decoding(encoded, decoded):
    assert decode_custom_fields(encoded) == decoded


def test_serialized_objects_are_refused():
    """PHP object injection: an O: payload must never be instantiated, so it decodes to nothing."""
    payload = b'O:8:"stdClass":1:{s:1:"a";s:1:"b";}'
    assert decode_custom_fields(b64(payload)) == {}
    nested = b'a:1:{i:1;O:8:"stdClass":0:{}}'
    assert decode_custom_fields(b64(nested)) == {}


def test_a_form_passes_values_as_a_mapping():
    assert decode_custom_fields({"9": "nine", 10: "ten"}) == {9: "nine", 10: "ten"}


@pytest.fixture
def fields(make):
    department = make.department()
    return department, {
        "hostname": make.custom_field(department, name="Hostname", required=True, sort_order=1),
        "os": make.custom_field(
            department,
            name="OS",
            field_type=CustomFieldType.DROPDOWN,
            options="Debian, Ubuntu",
            sort_order=2,
        ),
        "ticket": make.custom_field(
            department, name="Order number", validation_regex="/^ORD-\\d+$/i", sort_order=3
        ),
        "site": make.custom_field(
            department, name="Website", field_type=CustomFieldType.LINK, sort_order=4
        ),
        "agree": make.custom_field(
            department, name="Backups exist", field_type=CustomFieldType.TICKBOX, sort_order=5
        ),
        "secret": make.custom_field(
            department, name="Internal", admin_only=True, required=True, sort_order=6
        ),
    }


def stored_values(ticket) -> dict[int, str]:
    rows = db.session.execute(
        select(CustomFieldValue.field_id, CustomFieldValue.value).where(
            CustomFieldValue.ticket_id == ticket.id
        )
    )
    return dict(rows.all())


def test_valid_values_are_stored(open_, guest_request, fields):
    department, f = fields
    values = {
        f["hostname"].id: "db1",
        f["os"].id: "Debian",
        f["ticket"].id: "ord-42",
        f["site"].id: "https://example.com/x",
        f["agree"].id: "1",
    }
    ticket = open_(
        guest_request(deptid=department.id, customfields=values, check_custom_fields=True)
    )
    assert stored_values(ticket) == {**values, f["agree"].id: "on"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hostname", "", "Hostname is required"),
        ("hostname", "   ", "Hostname is required"),
        ("os", "Windows", "OS: choose one of the listed options"),
        ("ticket", "42", "Order number is not in the expected format"),
        ("site", "javascript:alert(1)", "Website must be a link starting with http:// or https://"),
        ("site", "example.com", "Website must be a link starting with http:// or https://"),
    ],
)
def test_the_departments_rules_are_checked_for_web_forms(
    open_, guest_request, fields, field, value, message
):
    department, f = fields
    values = {f["hostname"].id: "db1", f[field].id: value}
    request = guest_request(deptid=department.id, customfields=values, check_custom_fields=True)
    assert refusal(open_, request) == message


def test_custom_field_errors_name_their_field(open_, guest_request, fields):
    department, f = fields
    with pytest.raises(OpenTicketError) as refused:
        open_(guest_request(deptid=department.id, customfields={}, check_custom_fields=True))
    assert refused.value.errors[0].fields == (f"customfield[{f['hostname'].id}]",)


def test_clients_never_reach_admin_only_fields(open_, guest_request, fields):
    department, f = fields
    values = {f["hostname"].id: "db1", f["secret"].id: "planted by a client"}
    ticket = open_(
        guest_request(deptid=department.id, customfields=values, check_custom_fields=True)
    )
    assert f["secret"].id not in stored_values(ticket)


def test_staff_must_fill_required_admin_only_fields(open_, guest_request, fields, make):
    department, f = fields
    request = guest_request(
        deptid=department.id,
        customfields={f["hostname"].id: "db1"},
        check_custom_fields=True,
        admin=True,
    )
    assert refusal(open_, request, acting_staff=make.staff()) == "Internal is required"


def test_the_api_stores_values_unchecked_as_whmcs_does(open_, guest_request, fields):
    department, f = fields
    encoded = b64(phpserialize.dumps({f["os"].id: "Windows"}))
    ticket = open_(guest_request(deptid=department.id, customfields=encoded))
    assert stored_values(ticket) == {f["os"].id: "Windows"}


@pytest.mark.parametrize("requester", ["guest", "client"])
def test_fields_are_checked_in_the_departments_order_not_their_age(
    make, open_, guest_request, requester
):
    # A client's ticket reads the rules joined with its account: the same order must hold.
    department = make.department()
    later = make.custom_field(department, name="Later", required=True, sort_order=2)
    sooner = make.custom_field(department, name="Sooner", required=True, sort_order=1)
    who = {"clientid": str(make.client_account().id)} if requester == "client" else {}
    request = guest_request(deptid=department.id, check_custom_fields=True, **who)

    with pytest.raises(OpenTicketError) as refused:
        open_(request)
    assert [e.fields for e in refused.value.errors] == [
        (f"customfield[{sooner.id}]",),
        (f"customfield[{later.id}]",),
    ]
