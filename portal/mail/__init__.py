"""Ticket email through a transactional outbox: queued with the ticket, delivered after it.

- outbox: says which messages a new ticket needs (open_ticket stores that in the ticket's row),
  writes their rows at delivery, and composes them.
- delivery: claims due rows, sends them over SMTP or writes .eml files, retries, gives up.
- relay: the in-process attempt right after the commit (register_mail(app)).
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
