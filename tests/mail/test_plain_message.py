"""The directly written message is byte for byte what EmailMessage writes, whenever it is used."""

import itertools
import re
from email.headerregistry import Address

from portal.mail.outbox import _email_message, _plain_message

BOUNDARY = re.compile(r"={15}\d{19}==(?:\.\d+)?")
TEXT = "Dear Gus,\n\nThank you for contacting us.\n\nSubject: Printer\nPriority: Medium\n"
HTML = "<p>Dear Gus,</p>\n<p>" + "Thank you for contacting our support team. " * 4 + "</p>\n"


SENDER = Address("Support", addr_spec="support@example.com")


def headers(subject, to, cc=()):
    return {
        "Subject": subject,
        "From": SENDER,
        "To": list(to),
        "Cc": list(cc),
        "Date": "Sat, 28 Nov 2026 06:39:54 +0000",
        "Message-ID": "<179584799467.17231.8902239665774265665@portal.example.com>",
        "Auto-Submitted": "auto-generated",
    }


def same_as_email_message(values, text, html) -> bool:
    plain = _plain_message(values, text, html)
    if plain is None:
        return False
    expected = _email_message(values, text, html)
    assert BOUNDARY.sub("B", plain) == BOUNDARY.sub("B", expected)
    return True


def test_a_common_ticket_is_written_directly_and_identically():
    values = headers(
        "[Ticket ID: ABC-123456] Website shows error 500",
        [Address("Gus Guest", addr_spec="gus@example.com")],
        [Address("", addr_spec="boss@example.com"), Address("", addr_spec="it.dept@example.org")],
    )
    assert same_as_email_message(values, TEXT, HTML)


SUBJECTS = [
    "Short",
    "x" * 69,  # "Subject: " + 69 = 78 characters, the longest unfolded line
    "x" * 70,
    "Two  spaces",
    " leading space",
    "=?utf-8?q?encoded?=",
    "Caf\u00e9 broken",
    "Words " * 20,
    'Quotes "and" (comments), commas; <angles>',
]
NAMES = ["", "Gus Guest", "Dr. Gus", "Guest, Gus", "G\u00fcs", '"Quoted"', "a" * 70]
ADDRESSES = ["gus@example.com", "gus.guest+tag@mail.example.co.uk", "x_y-z@a-b.example"]
BODIES = [
    ("", ""),
    (TEXT, HTML),
    ("A line " * 20 + "\n", "<p>" + "x" * 200 + "</p>"),
    ("Caf\u00e9 au lait\n", "<p>\u65e5\u672c\u8a9e</p>\n" * 12),
    ("no newline at the end", "From the start\r\nand CR\rlines\n.\n"),
]


def test_every_message_written_directly_matches_email_message():
    written = 0
    for subject, name, address, (text, html) in itertools.product(
        SUBJECTS, NAMES, ADDRESSES, BODIES
    ):
        values = headers(subject, [Address(name, addr_spec=address)])
        written += same_as_email_message(values, text, html)
    assert written > 0
