"""Reading api.php's answers in the three response types, strictly, as a test should."""

import json
from xml.etree import ElementTree

API_URL = "/includes/api.php"
RESPONSE_TYPES = ("json", "xml", "")
XML_START = b'<?xml version="1.0" encoding="utf-8"?><whmcsapi><action>'
MIMETYPES = {"json": "application/json", "xml": "application/xml", "": "text/plain"}


def parse_xml(data: bytes | str) -> ElementTree.Element:
    # The documents parsed here are the portal's own answers, not untrusted input.
    return ElementTree.fromstring(data)  # noqa: S314


def read_answer(response, responsetype: str, action: str = "openticket") -> dict:
    """The answer's fields, after checking it is well-formed in the response type asked for."""
    assert response.mimetype == MIMETYPES[responsetype]
    if responsetype == "json":
        return json.loads(response.data)
    if responsetype == "xml":
        assert response.data.startswith(XML_START)
        root = parse_xml(response.data)
        first, *rest = list(root)
        assert (root.tag, first.tag, first.text or "") == ("whmcsapi", "action", action)
        assert all(len(child) == 0 for child in rest)
        return {child.tag: child.text or "" for child in rest}
    text = response.get_data(as_text=True)
    return dict(pair.split("=", 1) for pair in text.split(";"))


def base64_files(*files: tuple[str, bytes]) -> str:
    """The `attachments` parameter: base64 of a JSON array of {name, data}."""
    import base64

    listed = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    return base64.b64encode(json.dumps(listed).encode()).decode()


def read_xml_tree(response, action: str) -> ElementTree.Element:
    """The XML answer's root, checked to start as WHMCS's does."""
    assert response.mimetype == "application/xml"
    assert response.data.startswith(XML_START)
    root = parse_xml(response.data)
    assert root[0].tag == "action" and (root[0].text or "") == action
    return root
