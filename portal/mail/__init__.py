"""Ticket email through a transactional outbox: rows written with the ticket, delivered after.

- outbox: the rows a ticket owes, and composing their messages.
- delivery: claims due rows in batches, sends them over SMTP or writes .eml files, retries.
- relay: delivery right after the commit, in the web process (register_mail(app)).
- worker: the `send-mail` command.
"""

from portal.mail.delivery import DeliveryReport, DeliverySettings, deliver_due
from portal.mail.outbox import KIND_LABELS, failed_messages, retry_message
from portal.mail.relay import register_mail, relay_of

__all__ = [
    "KIND_LABELS",
    "DeliveryReport",
    "DeliverySettings",
    "deliver_due",
    "failed_messages",
    "register_mail",
    "relay_of",
    "retry_message",
]
