"""Odd values in the fields that are looked up rather than stored: an answer, never a 500."""

import pytest

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
