"""A person's text never adds a header or a body part to the email the portal writes.

Every message is read back from the real SMTP server and parsed as a mail client would: it has
exactly the headers the portal meant, whatever the name and subject typed.
"""

import email
import email.policy

import pytest

from tests.mail.test_ticket_opened_email import guest_ticket

ENCODED_WORD_ATTACK = (
    "=?utf-8?q?Dana=0D=0AReply-To:_attacker@evil.example=0D=0AContent-Type:_text/html"
    "=0D=0A=0D=0A<h1>Your_account_is_locked</h1><!--?="
)
# The headers each message of a new guest ticket has, and no others.
MEANT = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
}


@pytest.mark.parametrize(
    "field",
    [
        {"name": ENCODED_WORD_ATTACK},
        {"subject": ENCODED_WORD_ATTACK},
        {"name": "Dana\r\nReply-To: attacker@evil.example"},
        {"subject": "Hello\nBcc: attacker@evil.example"},
        {"subject": "Hello\u2028Bcc: attacker@evil.example"},
        {"subject": "Hello\u2029Bcc: attacker@evil.example"},
        {"subject": "Hello\x85Bcc: attacker@evil.example"},
        {"name": "Dana\u2028Reply-To: attacker@evil.example"},
        {"name": 'Dana, "Ops" <attacker@evil.example>, x' + "y" * 80},
    ],
    ids=lambda field: next(iter(field)) + ":" + repr(next(iter(field.values())))[:24],
)
def test_typed_text_adds_no_header_and_no_body(make, opened, smtp, delivered, field):
    department = make.department(email="support@example.com")
    opened(**guest_ticket(department, **field))

    received = delivered(smtp)
    assert len(received) == 2  # the requester's confirmation and the department's notice
    for one in received:
        message = email.message_from_bytes(one.data, policy=email.policy.default)
        assert set(message.keys()) == MEANT
        assert all(message.get_all(name) and len(message.get_all(name)) == 1 for name in MEANT)
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        # The typed text may be the display name, never another address.
        addresses = {a.addr_spec for a in message["To"].addresses}
        assert addresses in ({"gus@example.com"}, {"support@example.com"})
        assert "<h1>" not in message.get_body(("html",)).get_content()
        # The whole header block is on lines of its own: nothing typed starts a new one.
        head = one.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        names = {line.split(":", 1)[0] for line in head.split("\r\n") if not line[:1].isspace()}
        assert names == MEANT
