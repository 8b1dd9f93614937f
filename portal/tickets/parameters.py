"""Reading OpenTicket's loosely typed parameters the way WHMCS's PHP reads them."""

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import phpserialize

from portal.models import Priority

_LEADING_INTEGER = re.compile(r"\s*([+-]?\d+)")
# Row ids are 32-bit on every supported database; anything larger cannot name a row.
MAX_ROW_ID = 2**31 - 1
# PHP's integers are 64-bit; its (int) cast saturates at the bounds instead of failing.
PHP_INT_MAX = 2**63 - 1
PHP_INT_MIN = -(2**63)


def php_int(value: object) -> int:
    """PHP's (int) cast: leading digits count, anything else is 0."""
    if value is None or isinstance(value, bool):
        return int(bool(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = _LEADING_INTEGER.match(str(value))
    if not match:
        return 0
    digits = match.group(1)
    # Python refuses to convert more than 4,300 digits; far fewer already saturate.
    if len(digits.lstrip("+-").lstrip("0")) > 19:
        return PHP_INT_MIN if digits.startswith("-") else PHP_INT_MAX
    return max(PHP_INT_MIN, min(PHP_INT_MAX, int(digits)))


def row_id(value: object) -> int | None:
    """The id a parameter names, or None when it names nothing (0, negative, non-numeric)."""
    number = php_int(value)
    return number if 0 < number <= MAX_ROW_ID else None


def priority(value: object) -> Priority:
    text = str(value or "").strip().lower()
    for candidate in Priority:
        if candidate.value.lower() == text:
            return candidate
    return Priority.LOW


def decode_custom_fields(value: object) -> dict[int, str]:
    """{field id: value} from base64 of a PHP-serialized array or a JSON object; junk gives {}."""
    if isinstance(value, Mapping):
        return _field_values(value)
    if not value:
        return {}
    try:
        raw = base64.b64decode(str(value), validate=False)
    except (binascii.Error, ValueError):
        return {}
    # No PHP serialization starts with "{": a JSON object is read as one at once, without
    # phpserialize raising first.
    first, second = (_json, _php) if raw.lstrip()[:1] == b"{" else (_php, _json)
    try:
        decoded = first(raw)
    except Exception:  # any malformed payload is ignored, as WHMCS does
        try:
            decoded = second(raw)
        except Exception:
            return {}
    return _field_values(decoded) if isinstance(decoded, Mapping) else {}


def _php(raw: bytes) -> object:
    # Without an object_hook phpserialize refuses serialized objects, which is what we want.
    return phpserialize.loads(raw, decode_strings=True)


def _json(raw: bytes) -> object:
    return json.loads(raw)


def _field_values(mapping: Mapping) -> dict[int, str]:
    values: dict[int, str] = {}
    for key, value in mapping.items():
        field_id = row_id(key)
        if field_id is None or isinstance(value, Mapping | list | dict):
            continue
        if isinstance(value, bool):
            value = "on" if value else ""
        values[field_id] = "" if value is None else str(value).replace("\x00", "")
    return values


def parse_created(value: object, timezone: ZoneInfo) -> datetime:
    """An aware datetime from ISO 8601 or `YYYY-MM-DD HH:mm:ss`; naive times are in `timezone`."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    return moment


def decode_attachment_list(value: str) -> list[tuple[str, bytes]]:
    """(name, bytes) pairs from base64 of a JSON array of {name, data}; ValueError if malformed."""
    try:
        items = json.loads(_strict_base64(value))
    # Deep nesting exhausts the decoder's recursion limit: as malformed as any other junk.
    except (binascii.Error, ValueError, RecursionError) as error:
        raise ValueError("undecodable attachments") from error
    if isinstance(items, dict):
        items = list(items.values())
    if not isinstance(items, list):
        raise ValueError("attachments are not a list")
    files = []
    for item in items:
        if not isinstance(item, dict) or "data" not in item:
            raise ValueError("attachment without data")
        name = item.get("name", item.get("filename"))
        try:
            data = _strict_base64(str(item["data"]))
        except (binascii.Error, ValueError) as error:
            raise ValueError("undecodable attachment data") from error
        files.append((str(name or ""), data))
    return files


def _strict_base64(value: str) -> bytes:
    """Base64 with line breaks allowed but nothing else outside the alphabet: "!!!" is no file."""
    return base64.b64decode(re.sub(r"\s+", "", value), validate=True)
