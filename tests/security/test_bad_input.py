"""Odd values in the fields that are looked up rather than stored: an answer, never a 500."""

import base64

import pytest

from portal.tickets import errors
from tests.security.conftest import answer

ODD_VALUES = ["\x00", "a\x00b", "x" * 5000, "9" * 5000, "²", "💥"]


@pytest.mark.parametrize("value", ODD_VALUES)
def test_client_login(client, value):
    response = client.post("/login", data={"email": value, "password": value})

    assert response.status_code == 401


@pytest.mark.parametrize("value", ODD_VALUES)
def test_staff_login(client, value):
    response = client.post("/staff/login", data={"username": value, "password": value})

    assert response.status_code == 401


@pytest.mark.parametrize("value", ODD_VALUES)
def test_ticket_pages(client, staff_client, value):
    assert client.get("/viewticket", query_string={"tid": value, "c": value}).status_code == 404
    assert staff_client.get("/staff/tickets/x", query_string={"q": value}).status_code == 404
    assert staff_client.get(f"/staff/tickets/{value}").status_code == 404


@pytest.mark.parametrize("value", ODD_VALUES)
def test_staff_client_search_and_form(staff_client, value):
    search = staff_client.get("/staff/clients/search", query_string={"q": value})
    form = staff_client.post(
        "/staff/tickets/new", data={"action": "search", "q": value, "clientid": value}
    )

    assert search.status_code == 200 and search.json == {"clients": []}
    assert form.status_code == 200


@pytest.mark.parametrize("value", ["9" * 12, "2147483648", "-1"])
def test_ids_out_of_range_in_paths(staff_client, value):
    assert staff_client.get(f"/staff/clients/{value}/choices").status_code == 404
    assert staff_client.get(f"/staff/tickets/T/attachments/{value}").status_code == 404
    assert staff_client.get(f"/viewticket/attachment/{value}?tid=T&c=C").status_code == 404


@pytest.mark.parametrize("value", [str(2**31), str(2**63), str(2**64), "9" * 30, f"-{2**63}"])
def test_the_staff_list_takes_any_page_or_department_number(staff_client, value):
    assert staff_client.get("/staff/", query_string={"page": value}).status_code == 200
    assert staff_client.get("/staff/", query_string={"deptid": value}).status_code == 200


@pytest.mark.parametrize("nesting", ["[" * 100_000, '{"a":' * 100_000])
def test_deeply_nested_json_in_the_apis_attachments_is_a_whmcs_error(call_api, department, nesting):
    encoded = base64.b64encode(nesting.encode()).decode()

    response = call_api(
        {
            "deptid": department.id,
            "subject": "S",
            "message": "M",
            "name": "N",
            "email": "n@example.com",
            "attachments": encoded,
            "customfields": encoded,
        }
    )

    assert response.status_code == 200
    assert answer(response) == {"result": "error", "message": errors.ATTACHMENTS_UNDECODABLE}
