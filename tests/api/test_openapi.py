"""The OpenAPI document is served, and real responses match what it says about them."""

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.api.api_calls import API_URL, read_answer

OPENAPI_URL = "/includes/api.openapi.json"
DOCUMENT_URI = "urn:portal:api.openapi.json"
# Every request parameter of the spec's OpenTicket table, plus the API's own.
SPEC_PARAMETERS = {
    "action",
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
}
TRANSPORT_PARAMETERS = {
    "identifier",
    "secret",
    "username",
    "password",
    "accesskey",
    "responsetype",
    "idempotencykey",
}


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


def test_it_documents_every_request_parameter(document):
    content = document["paths"]["/includes/api.php"]["post"]["requestBody"]["content"]
    form = set(content["application/x-www-form-urlencoded"]["schema"]["properties"])
    multipart = set(content["multipart/form-data"]["schema"]["properties"])

    assert form == SPEC_PARAMETERS | TRANSPORT_PARAMETERS
    assert multipart == form | {"attachments[]"}


def scenario_fields(name: str, ticket_fields: dict) -> dict:
    return {
        "success": ticket_fields,
        "validation error": {**ticket_fields, "subject": ""},
        "empty action": {"action": ""},
        "unknown action": {"action": "GetClients"},
    }[name]


@pytest.mark.parametrize(
    ("scenario", "status"),
    [
        ("success", 200),
        ("validation error", 200),
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
