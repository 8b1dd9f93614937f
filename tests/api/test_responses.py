"""The three response types as documents, independent of any request."""

import pytest

from portal.api.parameters import action_name, flag, optional_flag
from portal.api.responses import ResponseType, name_value_text, xml_document
from tests.api.api_calls import parse_xml


def test_xml_starts_with_whmcs_declaration_and_keeps_the_field_order():
    document = xml_document(
        "openticket", {"result": "success", "id": "1", "tid": "ABC-123456", "c": "KPqH7yG3"}
    )

    assert document == (
        '<?xml version="1.0" encoding="utf-8"?><whmcsapi><action>openticket</action>'
        "<result>success</result><id>1</id><tid>ABC-123456</tid><c>KPqH7yG3</c></whmcsapi>"
    )


@pytest.mark.parametrize(
    "message",
    [
        "a < b && c > d",
        "]]> is not a problem either",
        "emoji 😀 and 'quotes' \"too\"",
        "</message><result>success</result>",
    ],
)
def test_xml_escapes_any_message(message):
    document = xml_document("openticket", {"result": "error", "message": message})

    assert parse_xml(document.encode()).findtext("message") == message


def test_characters_xml_cannot_carry_are_replaced_instead_of_breaking_the_document():
    document = xml_document("openticket", {"result": "error", "message": "bell\x07 nul\x00 \ufffe"})

    assert parse_xml(document.encode()).findtext("message") == ("bell\ufffd nul\ufffd \ufffd")


def test_name_value_text_is_whmcs_format():
    assert (
        name_value_text({"result": "success", "id": "1", "tid": "ABC-123456", "c": "KPqH7yG3"})
        == "result=success;id=1;tid=ABC-123456;c=KPqH7yG3"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json", ResponseType.JSON),
        ("XML", ResponseType.XML),
        (None, ResponseType.TEXT),
        ("", ResponseType.TEXT),
        ("html", ResponseType.TEXT),
    ],
)
def test_response_type_requested(value, expected):
    assert ResponseType.requested(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("OpenTicket", "openticket"),
        ("open_ticket", "openticket"),
        ("Ünïcode1", "ncode1"),
        (None, ""),
        ("", ""),
        ("--", ""),
    ],
)
def test_action_names_keep_only_ascii_letters_and_digits(value, expected):
    assert action_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("On", True),
        ("YES", True),
        ("2", True),
        ("x", True),
        ("0", False),
        ("false", False),
        ("Off", False),
        ("no", False),
        ("", False),
        ("  ", False),
        (None, False),
    ],
)
def test_flags(value, expected):
    assert flag(value) is expected


def test_an_absent_optional_flag_is_none_so_that_a_default_applies():
    assert (optional_flag(None), optional_flag(""), optional_flag("1")) == (None, False, True)
