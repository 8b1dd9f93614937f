"""Arbitrary parameters at api.php: always a WHMCS-style answer, never a 500, nothing partial."""

import base64
import json

import pytest
from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.security.conftest import answer, attachment_count, files_under, ticket_count

FIELDS = (
    "deptid",
    "subject",
    "message",
    "clientid",
    "userid",
    "contactid",
    "name",
    "email",
    "priority",
    "created",
    "serviceid",
    "domainid",
    "admin",
    "noemail",
    "markdown",
    "customfields",
    "attachments",
    "preventClientClosure",
)

any_text = st.text(max_size=60)
odd_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\x00abc",
        "null",
        "NaN",
        "[]",
        "{}",
        "💥",
        "\u202e",
        "0001-01-01T00:00+01:00",
    ]
)
integers_as_text = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["1", "0", "-1", "2147483648", "9" * 40, "1e9", " 7 ", "0x10", "\uff11", "9" * 5000]
    ),
)
booleans_spelled_oddly = st.sampled_from(
    ["true", "TRUE", "yes", "on", "1", "false", "off", "no", "0", "", " ", "maybe", "-0"]
)
junk_base64 = st.one_of(
    st.binary(max_size=60).map(lambda raw: base64.b64encode(raw).decode()),
    st.sampled_from(["!!!", "====", "YQ", "a" * 7, "eyJ9"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
attachment_items = st.one_of(
    st.fixed_dictionaries(
        {
            "name": st.one_of(st.text(max_size=30), st.sampled_from(["a.txt", "../x.txt", ".txt"])),
            "data": st.one_of(junk_base64, st.integers(), st.none()),
        }
    ),
    json_values,
)
attachment_lists = st.one_of(
    st.lists(attachment_items, max_size=3).map(json.dumps),
    json_values.map(json.dumps),
).map(lambda text: base64.b64encode(text.encode()).decode())
custom_field_maps = st.dictionaries(
    st.one_of(integers_as_text, st.text(max_size=5)), json_values, max_size=3
).map(lambda value: base64.b64encode(json.dumps(value).encode()).decode())

values = st.one_of(
    any_text, odd_text, integers_as_text, booleans_spelled_oddly, junk_base64, attachment_lists
)
parameters = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=10)), values, max_size=10
)


@pytest.fixture
def app_config(app_config):
    # Hypothesis checks that nothing moves the `random` module's state while it draws an example;
    # the after-commit mail thread does (email.utils.make_msgid). The mail stays queued here:
    # this test is about the answers and what is left in the database and on disk.
    return {**app_config, "MAIL_DELIVER_AFTER_COMMIT": False}


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=parameters,
    start_valid=st.booleans(),
    customfields=st.one_of(st.none(), custom_field_maps),
    attachments=st.one_of(st.none(), attachment_lists),
)
# Found by this test: Python refused to read a 5,000-digit id, and a date in year 1 with an
# offset overflowed; both answered 500.
@example(changes={"clientid": "9" * 5000}, start_valid=True, customfields=None, attachments=None)
@example(
    changes={"created": "0001-01-01T00:00:00+01:00"},
    start_valid=True,
    customfields=None,
    attachments=None,
)
def test_any_parameters_get_a_whmcs_answer_and_leave_nothing_partial(
    app, call_api, department, changes, start_valid, customfields, attachments
):
    valid = {
        "deptid": str(department.id),
        "subject": "Subject",
        "message": "Message",
        "name": "Gina Guest",
        "email": "gina@example.com",
    }
    fields = {**(valid if start_valid else {}), **changes}
    if customfields is not None:
        fields["customfields"] = customfields
    if attachments is not None:
        fields["attachments"] = attachments
    # Credentials and the response type come from the fixture; the test varies the rest.
    for fixed in ("identifier", "secret", "action", "responsetype"):
        fields.pop(fixed, None)
    tickets_before, attachments_before = ticket_count(), attachment_count()
    files_before = files_under(app.config["ATTACHMENTS_DIR"])

    response = call_api(fields)

    assert response.status_code in (200, 400, 403, 413, 503)
    result = answer(response)
    event(result["result"])
    if result["result"] == "success":
        assert ticket_count() == tickets_before + 1
    else:
        assert set(result) == {"result", "message"} and result["message"]
        assert ticket_count() == tickets_before
        assert attachment_count() == attachments_before
        assert files_under(app.config["ATTACHMENTS_DIR"]) == files_before
