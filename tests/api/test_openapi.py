"""The OpenAPI document is served, and real responses match what it says about them."""

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.api.api_calls import API_URL, read_answer

OPENAPI_URL = "/includes/api.openapi.json"
DOCUMENT_URI = "urn:portal:api.openapi.json"
# Every request parameter of each action's table in the WHMCS reference, plus the older names
# the portal accepts (useMarkdown, userid, clientid) and the query string's `ticketnum`.
SPEC_PARAMETERS = {
    "OpenTicket": {
        "deptid", "subject", "message", "clientid", "userid", "contactid", "name", "email",
        "priority", "created", "serviceid", "domainid", "admin", "noemail", "markdown",
        "customfields", "attachments", "preventClientClosure",
    },
    "GetSupportDepartments": {"ignore_dept_assignments"},
    "GetSupportStatuses": {"deptid"},
    "GetTicket": {"ticketnum", "ticketid", "repliessort"},
    "GetTickets": {
        "limitstart", "limitnum", "deptid", "clientid", "email", "status", "subject",
        "ignore_dept_assignments",
    },
    "GetTicketCounts": {"ignoreDepartmentAssignments", "includeCountsByStatus"},
    "AddTicketReply": {
        "ticketid", "message", "markdown", "clientid", "contactid", "adminusername", "name",
        "email", "status", "noemail", "customfields", "attachments", "created",
        "userid", "useMarkdown",
    },
    "AddTicketNote": {"message", "ticketnum", "ticketid", "markdown", "attachments", "created"},
    "UpdateTicket": {
        "ticketid", "deptid", "status", "subject", "userid", "name", "email", "cc", "priority",
        "created", "flag", "removeFlag", "message", "markdown", "customfields",
        "preventClientClosure", "clientid", "useMarkdown",
    },
    "GetTicketNotes": {"ticketid"},
    "GetTicketAttachment": {"relatedid", "type", "index"},
    "DeleteTicket": {"ticketid"},
}  # fmt: skip
# The reference's documented error strings, character for character.
SPEC_ERRORS = {
    "AddTicketReply": [
        "Ticket ID not found", "Client ID Not Found", "Contact ID Not Found",
        "Name and email address are required if not a client", "Message is required",
        "Email Address Invalid", "Invalid Ticket Status", "Invalid Date Format",
        "Reply creation date cannot be in the future",
    ],
    "AddTicketNote": [
        "Ticket ID not found", "Message is required", "Invalid Date Format",
        "Ticket creation date cannot be in the future",
    ],
    "UpdateTicket": [
        "Ticket ID Not Found", "Department ID Not Found",
        "Invalid Ticket Priority. Valid priorities are: Low,Medium,High", "Invalid Date Format",
        "Ticket creation date cannot be in the future",
    ],
    "GetTicketAttachment": [
        "Related ID Required", "Invalid Type. Must be one of ticket, reply, note",
        "Related ID Not Found", "Attachment Index Required", "No Attachments Found",
        "Attachments Deleted", "Invalid Attachment Index",
    ],
    "DeleteTicket": ["Ticket ID not found"],
}  # fmt: skip
TRANSPORT_PARAMETERS = {
    "identifier",
    "secret",
    "username",
    "password",
    "accesskey",
    "responsetype",
    "idempotencykey",
}
OPERATION = ("paths", "/includes/api.php", "post")


@pytest.fixture
def document(client) -> dict:
    response = client.get(OPENAPI_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def validate(document: dict, pointer: str, instance) -> None:
    """Validate against the schema at a JSON pointer; its $refs resolve within the document."""
    registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document))
    validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry)
    validator.validate(instance)


def response_schema_pointer(status: int) -> str:
    return f"/paths/~1includes~1api.php/post/responses/{status}/content/application~1json/schema"


def test_it_is_openapi_3_1_and_names_this_portal_as_server(document, app):
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": app.config["BASE_URL"]}]


def test_its_schemas_are_valid_json_schema(document):
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def schema_at(document: dict, reference: dict) -> dict:
    target = document
    for part in reference["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def operation(document: dict, method: str = "post") -> dict:
    return document["paths"]["/includes/api.php"][method]


def test_it_describes_every_action_the_api_has(document):
    from portal.api.permissions import TICKET_ACTIONS
    from portal.api.views import ACTIONS

    described = operation(document)["x-whmcs-actions"]

    assert {name.lower() for name in described} == set(ACTIONS) == set(TICKET_ACTIONS)
    assert operation(document, "get")["x-whmcs-actions"] == described


@pytest.mark.parametrize("action", sorted(SPEC_PARAMETERS))
def test_it_documents_every_request_parameter_of_each_action(document, action):
    described = operation(document)["x-whmcs-actions"][action]

    schema = schema_at(document, described["request"])
    assert set(schema["properties"]) == SPEC_PARAMETERS[action] | {"action"}
    assert schema["properties"]["action"]["examples"] == [action]


def test_the_transport_parameters_are_documented_once_for_all(document):
    assert set(document["components"]["schemas"]["Transport"]["properties"]) == (
        TRANSPORT_PARAMETERS
    )
    content = operation(document)["requestBody"]["content"]
    assert set(content) == {"application/x-www-form-urlencoded", "multipart/form-data"}


@pytest.mark.parametrize("action", sorted(SPEC_ERRORS))
def test_it_lists_each_documented_error(document, action):
    listed = operation(document)["x-whmcs-actions"][action]["errors"]

    assert [error for error in SPEC_ERRORS[action] if error not in listed] == []


def scenario_fields(name: str, ticket_fields: dict) -> dict:
    return {
        "success": ticket_fields,
        "validation error": {**ticket_fields, "subject": ""},
        "empty action": {"action": ""},
        "unknown action": {"action": "GetClients"},
        "get tickets": {"action": "GetTickets"},
        "get support statuses": {"action": "GetSupportStatuses"},
        "get ticket not found": {"action": "GetTicket", "ticketid": "999999"},
    }[name]


@pytest.mark.parametrize(
    ("scenario", "status"),
    [
        ("success", 200),
        ("validation error", 200),
        ("get tickets", 200),
        ("get support statuses", 200),
        ("get ticket not found", 200),
        ("empty action", 400),
        ("unknown action", 400),
    ],
)
def test_real_responses_match_the_document(document, call_api, ticket_fields, scenario, status):
    response = call_api({**scenario_fields(scenario, ticket_fields), "responsetype": "json"})

    assert response.status_code == status
    validate(document, response_schema_pointer(status), read_answer(response, "json"))


@pytest.mark.parametrize("responsetype", ["json", "xml", ""])
@pytest.mark.parametrize(("scenario", "status"), [("success", 200), ("empty action", 400)])
def test_every_response_type_is_documented(
    document, call_api, ticket_fields, scenario, status, responsetype
):
    response = call_api({**scenario_fields(scenario, ticket_fields), "responsetype": responsetype})

    documented = document["paths"]["/includes/api.php"]["post"]["responses"][str(status)]
    assert response.status_code == status
    assert response.mimetype in documented["content"]


@pytest.mark.parametrize(
    "fields",
    [
        {"identifier": "nobody", "secret": "wrong"},
        {"accesskey": "wrong"},
    ],
)
def test_refusals_match_the_document(document, client, ticket_fields, fields):
    response = client.post(API_URL, data={**ticket_fields, **fields, "responsetype": "json"})

    assert response.status_code == 403
    validate(document, response_schema_pointer(403), read_answer(response, "json"))


def test_an_invalid_ip_refusal_matches_the_document(document, call_api, ticket_fields):
    response = call_api(
        {**ticket_fields, "responsetype": "json"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )

    assert response.status_code == 403
    validate(document, response_schema_pointer(403), read_answer(response, "json"))


def test_the_success_schema_would_catch_an_integer_id(document):
    # WHMCS sends the id as a string; the document says so, so a number would be caught.
    with pytest.raises(ValidationError, match="1 is not of type 'string'"):
        validate(
            document,
            "/components/schemas/OpenTicketSuccess",
            {"result": "success", "id": 1, "tid": "ABC-123456", "c": "KPqH7yG3"},
        )
