"""Ticket numbers from WHMCS's mask codes, and access codes."""

import secrets
import string
from datetime import datetime

ACCESS_CODE_ALPHABET = string.ascii_letters + string.digits
ACCESS_CODE_LENGTH = 8


class _RandomCharacters:
    """Uniform characters from one urandom read per few characters, not one per character.

    Opening a ticket renders 25 candidate tids; drawing each character with secrets.choice
    made ~230 getrandom calls per ticket, about a tenth of the ceiling's whole request.
    """

    def __init__(self) -> None:
        self._pool = b""
        self._next = 0

    def choice(self, alphabet: str) -> str:
        # Bytes at or above the largest multiple of len(alphabet) are skipped: no modulo bias.
        limit = 256 - 256 % len(alphabet)
        while True:
            if self._next == len(self._pool):
                self._pool = secrets.token_bytes(16)
                self._next = 0
            byte = self._pool[self._next]
            self._next += 1
            if byte < limit:
                return alphabet[byte % len(alphabet)]


def render_mask(mask: str, now: datetime, ticket_id: int | None = None) -> str:
    """One candidate tid: %A/%a letters, %n digit, %y %m %d date, %i id; unknown codes vanish."""
    random = _RandomCharacters()
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
        if code == "A":
            out.append(random.choice(string.ascii_uppercase))
        elif code == "a":
            out.append(random.choice(string.ascii_lowercase))
        elif code == "n":
            out.append(random.choice(string.digits))
        elif code == "y":
            out.append(f"{now.year:04d}")
        elif code == "m":
            out.append(f"{now.month:02d}")
        elif code == "d":
            out.append(f"{now.day:02d}")
        elif code == "i":
            out.append(str(ticket_id if ticket_id is not None else ""))
    return "".join(out)


def mask_uses_id(mask: str) -> bool:
    return "%i" in mask


def new_access_code() -> str:
    # secrets.choice reads urandom once per character; one pool serves the whole code.
    random = _RandomCharacters()
    return "".join(random.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
