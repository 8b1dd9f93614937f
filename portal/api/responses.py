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


@dataclass(frozen=True)
class Presenter:
    """Writes one request's answers in the response type it asked for."""

    response_type: ResponseType
    action: str

    def success(self, fields: dict[str, str]) -> Response:
        return self.answer({"result": "success", **fields})

    def error(self, message: str, status: int = 200) -> Response:
        return self.answer({"result": "error", "message": message}, status)

    def answer(self, fields: dict[str, str], status: int = 200) -> Response:
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


def xml_document(action: str, fields: dict[str, str]) -> str:
    """<whmcsapi><action>…</action>…</whmcsapi>, every value escaped by ElementTree."""
    root = ET.Element("whmcsapi")
    for name, value in {"action": action, **fields}.items():
        ET.SubElement(root, name).text = _NOT_XML_CHARACTERS.sub("\ufffd", str(value))
    return XML_DECLARATION + ET.tostring(root, encoding="unicode", short_empty_elements=False)


def name_value_text(fields: dict[str, str]) -> str:
    """WHMCS's `result=success;id=1;…`; like WHMCS it does not escape `;` or `=` in values."""
    return ";".join(f"{name}={value}" for name, value in fields.items())
