"""api.php's answers in WHMCS's three response types: JSON, XML and name=value text."""

import enum
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flask import Response

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
# Characters XML 1.0 cannot carry even escaped; they become U+FFFD rather than break the document.
_NOT_XML_CHARACTERS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class ResponseType(enum.StrEnum):
    JSON = "json"
    XML = "xml"
    TEXT = "text"

    @classmethod
    def requested(cls, value: str | None) -> "ResponseType":
        """The `responsetype` asked for; anything but json or xml gets WHMCS's default text."""
        word = (value or "").strip().lower()
        return cls(word) if word in (cls.JSON, cls.XML) else cls.TEXT


# An answer's values: strings (and ints, bools) as WHMCS types them, nested in objects and lists.
Value = str | int | bool | list["Value"] | dict[str, "Value"]
Fields = dict[str, Value]


@dataclass(frozen=True)
class Presenter:
    """Writes one request's answers in the response type it asked for."""

    response_type: ResponseType
    action: str

    def success(self, fields: Fields) -> Response:
        return self.answer({"result": "success", **fields})

    def error(self, message: str, status: int = 200) -> Response:
        return self.answer({"result": "error", "message": message}, status)

    def answer(self, fields: Fields, status: int = 200) -> Response:
        if self.response_type is ResponseType.JSON:
            body = json.dumps(fields, separators=(",", ":"))
            return Response(body, status, mimetype="application/json")
        if self.response_type is ResponseType.XML:
            return Response(
                xml_document(self.action, fields),
                status,
                content_type="application/xml; charset=utf-8",
            )
        return Response(name_value_text(fields), status, content_type="text/plain; charset=utf-8")


def xml_document(action: str, fields: Fields) -> str:
    """<whmcsapi><action>…</action>…</whmcsapi>, every value escaped by ElementTree.

    An object is an element with its fields as children; a list is its items repeated under the
    list's own name, so {"tickets": {"ticket": [a, b]}} is <tickets><ticket>a</ticket>
    <ticket>b</ticket></tickets>, as WHMCS writes its lists.
    """
    root = ET.Element("whmcsapi")
    for name, value in {"action": action, **fields}.items():
        _add_xml(root, name, value)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode", short_empty_elements=False)


def _add_xml(parent: ET.Element, name: str, value: Value) -> None:
    if isinstance(value, list):
        for item in value:
            _add_xml(parent, name, item)
        return
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for child_name, child in value.items():
            _add_xml(element, child_name, child)
    else:
        element.text = _NOT_XML_CHARACTERS.sub("\ufffd", scalar_text(value))


def scalar_text(value: str | int | bool) -> str:
    """A value as PHP prints it: true is 1, false is empty."""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def name_value_text(fields: Fields) -> str:
    """WHMCS's `result=success;id=1;…`; like WHMCS it does not escape `;` or `=` in values.

    Nested values are named as PHP's http_build_query names them: `tickets[ticket][0][id]=1`.
    """
    return ";".join(f"{name}={text}" for name, text in _flattened(fields, ""))


def _flattened(value: Value, prefix: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        items: list[tuple[str, Value]] = list(value.items())
    elif isinstance(value, list):
        items = [(str(index), item) for index, item in enumerate(value)]
    else:
        return [(prefix, scalar_text(value))]
    pairs = []
    for name, item in items:
        pairs += _flattened(item, f"{prefix}[{name}]" if prefix else name)
    return pairs
