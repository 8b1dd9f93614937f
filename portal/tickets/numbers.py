"""Ticket numbers from WHMCS's mask codes, and access codes."""

import secrets
import string
from datetime import datetime

ACCESS_CODE_ALPHABET = string.ascii_letters + string.digits
ACCESS_CODE_LENGTH = 8
_RANDOM_CODES = {"A": string.ascii_uppercase, "a": string.ascii_lowercase, "n": string.digits}


def render_mask(mask: str, now: datetime, ticket_id: int | None = None) -> str:
    """One candidate tid: %A/%a letters, %n digit, %y %m %d date, %i id; unknown codes vanish."""
    out: list[str] = []
    position = 0
    while position < len(mask):
        char = mask[position]
        if char != "%" or position + 1 == len(mask):
            out.append(char)
            position += 1
            continue
        code = mask[position + 1]
        position += 2
        if code in _RANDOM_CODES:
            out.append(secrets.choice(_RANDOM_CODES[code]))
        elif code == "y":
            out.append(f"{now.year:04d}")
        elif code == "m":
            out.append(f"{now.month:02d}")
        elif code == "d":
            out.append(f"{now.day:02d}")
        elif code == "i":
            out.append("" if ticket_id is None else str(ticket_id))
    return "".join(out)


def mask_uses_id(mask: str) -> bool:
    return "%i" in mask


def new_access_code() -> str:
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
