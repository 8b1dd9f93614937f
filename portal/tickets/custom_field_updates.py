"""Custom field values changed after a ticket is opened: AddTicketReply's and UpdateTicket's
`customfields`, stored unchecked as WHMCS's API stores them."""

from sqlalchemy.orm import Session

from portal.models import CustomFieldType, CustomFieldValue, Ticket
from portal.tickets import errors, parameters
from portal.tickets.errors import FieldError, TicketError
from portal.tickets.opening import MAX_CUSTOM_FIELD_VALUE, TRUE_TICKBOX_VALUES


def update_custom_fields(
    session: Session, ticket: Ticket, encoded: object, refused: type[TicketError]
) -> None:
    """Set the values given for the ticket's department's fields; others are ignored, as is
    anything undecodable. Raises `refused` for a value too long, changing nothing."""
    given = parameters.decode_custom_fields(encoded)
    if not given:
        return
    fields = {field.id: field for field in ticket.department.custom_fields}
    values: dict[int, str] = {}
    found: list[FieldError] = []
    for field_id, value in given.items():
        field = fields.get(field_id)
        if field is None:
            continue
        value = value.strip()
        if field.field_type == CustomFieldType.TICKBOX:
            value = "on" if value.lower() in TRUE_TICKBOX_VALUES else ""
        if len(value) > MAX_CUSTOM_FIELD_VALUE:
            message = errors.too_long(field.name, MAX_CUSTOM_FIELD_VALUE)
            found.append(FieldError((f"customfield[{field_id}]",), message))
        values[field_id] = value
    if found:
        raise refused(found)
    stored = {value.field_id: value for value in ticket.custom_field_values}
    for field_id, value in values.items():
        if field_id in stored:
            stored[field_id].value = value
        else:
            ticket.custom_field_values.append(CustomFieldValue(field_id=field_id, value=value))
    session.flush()
