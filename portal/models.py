"""The data model: what WHMCS 8 keeps for support tickets, in names a Python reader knows."""

import enum
import hashlib
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import Base


def utcnow() -> datetime:
    """Naive UTC: every database keeps the same wall-clock value without time zone support."""
    return datetime.now(UTC).replace(tzinfo=None)


# MariaDB's TEXT stops at 64 KB; a message of 100,000 emoji needs MEDIUMTEXT there.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def full_name(first_name: str | None, last_name: str | None) -> str:
    """A person's name as the portal shows it: first and last, either one possibly empty."""
    return f"{first_name or ''} {last_name or ''}".strip()


class TicketStatus(enum.StrEnum):
    OPEN = "Open"
    ANSWERED = "Answered"
    CUSTOMER_REPLY = "Customer-Reply"
    ON_HOLD = "On Hold"
    IN_PROGRESS = "In Progress"
    CLOSED = "Closed"


class Priority(enum.StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


class Editor(enum.StrEnum):
    MARKDOWN = "markdown"
    PLAIN = "plain"


class CustomFieldType(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    DROPDOWN = "dropdown"
    TICKBOX = "tickbox"
    LINK = "link"


class PasswordMixin:
    password_hash: Mapped[str | None]
    # A session keeps the number it signed in with and opens nothing once it changed: signing
    # out and a new password move it on, ending every session of the account (portal.identity).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """End every session signed in as this account, once the change is committed."""
        # Two requests doing so at once may both write the same next number: either way it
        # differs from what every session signed in before them recorded.
        self.session_generation = (self.session_generation or 0) + 1

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


class ClientAccount(Base):
    """The billable owner of tickets, services and domains (WHMCS's "client")."""

    __tablename__ = "client_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(20), default="Active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["AccountMembership"]] = relationship(back_populates="client")
    contacts: Mapped[list["Contact"]] = relationship(back_populates="client")
    services: Mapped[list["Service"]] = relationship(back_populates="client")
    domains: Mapped[list["Domain"]] = relationship(back_populates="client")

    @property
    def name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.company_name})" if self.company_name else self.name

    @property
    def owner(self) -> "User | None":
        return next((m.user for m in self.memberships if m.is_owner), None)


class User(PasswordMixin, UserMixin, Base):
    """A login identity; one user may act for several client accounts."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["AccountMembership"]] = relationship(back_populates="user")

    @property
    def name(self) -> str:
        return full_name(self.first_name, self.last_name)

    def get_id(self) -> str:
        return f"user:{self.id}"


class AccountMembership(Base):
    """A user's link to a client account; the owner is the account's main user."""

    __tablename__ = "account_membership"
    __table_args__ = (UniqueConstraint("client_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client_account.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    is_owner: Mapped[bool] = mapped_column(default=False)

    client: Mapped[ClientAccount] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("client_account.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))

    client: Mapped[ClientAccount] = relationship(back_populates="contacts")

    @property
    def name(self) -> str:
        return full_name(self.first_name, self.last_name)


class StaffMember(PasswordMixin, UserMixin, Base):
    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # WHMCS's legacy API login sends md5(password); only a hash of that digest is kept, and only
    # used when API_ALLOW_LEGACY_PASSWORD_AUTH is on.
    legacy_api_password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def name(self) -> str:
        return full_name(self.first_name, self.last_name) or self.username

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"staff:{self.id}"

    def set_password(self, password: str) -> None:
        super().set_password(password)
        digest = hashlib.md5(password.encode()).hexdigest()  # noqa: S324 - WHMCS's legacy format
        self.legacy_api_password_hash = generate_password_hash(digest)


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    hidden: Mapped[bool] = mapped_column(default=False)
    clients_only: Mapped[bool] = mapped_column(default=False)
    no_autoresponder: Mapped[bool] = mapped_column(default=False)
    prevent_client_closure: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    custom_fields: Mapped[list["CustomField"]] = relationship(
        back_populates="department", order_by="(CustomField.sort_order, CustomField.id)"
    )


class CustomField(Base):
    __tablename__ = "custom_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(255), default="")
    field_type: Mapped[str] = mapped_column(String(20), default=CustomFieldType.TEXT)
    # Dropdown choices, comma separated as WHMCS stores them.
    options: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    validation_regex: Mapped[str] = mapped_column(String(255), default="")
    admin_only: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    department: Mapped[Department] = relationship(back_populates="custom_fields")

    @property
    def choices(self) -> list[str]:
        return [option.strip() for option in self.options.split(",") if option.strip()]


class Service(Base):
    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("client_account.id", ondelete="CASCADE"), index=True
    )
    product_name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default="Active")

    client: Mapped[ClientAccount] = relationship(back_populates="services")

    @property
    def label(self) -> str:
        return f"{self.product_name} - {self.domain}" if self.domain else self.product_name


class Domain(Base):
    __tablename__ = "domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("client_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="Active")

    client: Mapped[ClientAccount] = relationship(back_populates="domains")

    @property
    def label(self) -> str:
        return self.name


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_client_created", "client_id", "created_at"),
        Index("ix_ticket_department_status", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tid: Mapped[str] = mapped_column(String(32), unique=True)
    access_code: Mapped[str] = mapped_column(String(8))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client_account.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    # A user's or contact's first and last name (100 each) with a space between.
    name: Mapped[str] = mapped_column(String(201), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    cc: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(LongText)
    # The message rendered (and sanitised) when it was written, and by which renderer
    # (portal.rendering.RENDERER_VERSION): a page shows it without rendering it again.
    message_html: Mapped[str | None] = mapped_column(LongText)
    message_renderer: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.OPEN)
    priority: Mapped[str] = mapped_column(String(10), default=Priority.LOW)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_reply_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"))
    editor: Mapped[str] = mapped_column(String(10), default=Editor.PLAIN)
    prevent_client_closure: Mapped[bool] = mapped_column(default=False)
    email_suppressed: Mapped[bool] = mapped_column(default=False)
    # Who wrote last (a reply, or the opening message), as the lists show it.
    last_reply_name: Mapped[str] = mapped_column(String(201), default="")
    last_reply_staff: Mapped[bool] = mapped_column(default=False)
    # The latest change anyone can see: a reply, a change of status, department or priority.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None]
    closed_by_name: Mapped[str] = mapped_column(String(201), default="")
    # The staff member the ticket is flagged (assigned) to, WHMCS's `flag`.
    flagged_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL"), index=True
    )

    department: Mapped[Department] = relationship()
    client: Mapped[ClientAccount | None] = relationship()
    user: Mapped[User | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    opened_by: Mapped[StaffMember | None] = relationship(foreign_keys=[opened_by_staff_id])
    flagged_to: Mapped[StaffMember | None] = relationship(foreign_keys=[flagged_staff_id])
    service: Mapped[Service | None] = relationship()
    domain: Mapped[Domain | None] = relationship()
    # The opening message's files; replies and notes hold their own.
    attachments: Mapped[list["Attachment"]] = relationship(
        primaryjoin=lambda: and_(
            Ticket.id == Attachment.ticket_id,
            Attachment.reply_id.is_(None),
            Attachment.note_id.is_(None),
        ),
        order_by="Attachment.id",
        overlaps="attachments,ticket",
    )
    replies: Mapped[list["TicketReply"]] = relationship(
        back_populates="ticket", order_by="(TicketReply.created_at, TicketReply.id)"
    )
    notes: Mapped[list["TicketNote"]] = relationship(
        back_populates="ticket", order_by="(TicketNote.created_at, TicketNote.id)"
    )
    custom_field_values: Mapped[list["CustomFieldValue"]] = relationship(
        back_populates="ticket", order_by="CustomFieldValue.field_id"
    )

    @property
    def is_markdown(self) -> bool:
        return self.editor == Editor.MARKDOWN

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED

    @property
    def related_label(self) -> str:
        """The service or domain the ticket concerns, as its page names it."""
        if self.service is not None:
            return self.service.label
        if self.domain is not None:
            return self.domain.label
        return "None"


class WrittenMessage:
    """A reply's or a note's text, its rendered HTML (portal.rendering), and when it was written."""

    message: Mapped[str] = mapped_column(LongText)
    message_html: Mapped[str | None] = mapped_column(LongText)
    message_renderer: Mapped[str | None] = mapped_column(String(80))
    editor: Mapped[str] = mapped_column(String(10), default=Editor.PLAIN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_markdown(self) -> bool:
        return self.editor == Editor.MARKDOWN


class TicketReply(WrittenMessage, Base):
    """A message after the opening one, from the requester, a guest or staff."""

    __tablename__ = "ticket_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id", ondelete="SET NULL"))
    # The author as shown: a staff member's name, or the client's or guest's name and address.
    name: Mapped[str] = mapped_column(String(201), default="")
    email: Mapped[str] = mapped_column(String(254), default="")

    ticket: Mapped[Ticket] = relationship(back_populates="replies")
    staff: Mapped[StaffMember | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        order_by="Attachment.id", overlaps="attachments"
    )

    @property
    def by_staff(self) -> bool:
        return self.staff_id is not None


class TicketNote(WrittenMessage, Base):
    """A staff member's internal note on a ticket: never shown to the client."""

    __tablename__ = "ticket_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(201), default="")

    ticket: Mapped[Ticket] = relationship(back_populates="notes")
    staff: Mapped[StaffMember | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        order_by="Attachment.id", overlaps="attachments"
    )


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every file names its ticket; a reply's or a note's also names that reply or note.
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_reply.id", ondelete="CASCADE"), index=True
    )
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_note.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))

    ticket: Mapped[Ticket] = relationship(overlaps="attachments")


class CustomFieldValue(Base):
    __tablename__ = "custom_field_value"
    __table_args__ = (UniqueConstraint("ticket_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_field.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(LongText, default="")

    ticket: Mapped[Ticket] = relationship(back_populates="custom_field_values")
    field: Mapped[CustomField] = relationship()


class ApiCredential(Base):
    __tablename__ = "api_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of a secret of 256 random bits: a slow hash adds nothing at that entropy.
    secret_sha256: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"))
    # Comma-separated addresses or networks; empty means only the global allow-list applies.
    allowed_ips: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 of the secret's MD5 hex digest, for clients that always send MD5 (WHMCS's legacy
    # password form); None for credentials made before it was kept.
    secret_md5_sha256: Mapped[str | None] = mapped_column(String(64))
    # The API actions it may call, lower case and comma-separated (WHMCS's API roles); None
    # allows every ticket action.
    allowed_actions: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[StaffMember] = relationship()


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """An email written in the transaction that caused it, delivered after the commit."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The claim query: due rows by status, oldest first. A claimed row's next_attempt_at is
        # its claim deadline, so one range covers both pending rows and abandoned claims.
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    # The reply a reply's message is about.
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_reply.id", ondelete="CASCADE"), index=True
    )
    # Envelope addresses; the headers inside `message` say the same for display.
    sender: Mapped[str] = mapped_column(String(254), default="")
    recipients: Mapped[str] = mapped_column(Text, default="")
    cc: Mapped[str] = mapped_column(Text, default="")
    # The complete RFC 5322 message, composed at its first delivery; empty until then.
    message: Mapped[str] = mapped_column(LongText, default="")
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    ticket: Mapped[Ticket | None] = relationship()
    reply: Mapped[TicketReply | None] = relationship()


class IdempotencyKey(Base):
    """A submission key and the ticket its first request opened, so that a repeat opens nothing."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose keys these are: a form ("client-form", "staff-form") or an API credential.
    scope: Mapped[str] = mapped_column(String(40))
    # The key's digest: fixed length for the index, and exact on MariaDB, whose collation
    # would take "abc" and "ABC " for the same key.
    key_sha256: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request's parameters; empty where any repeat counts as the same request.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    # Inserted with its ticket (or the ticket's reply or note) in one transaction: a committed
    # row always has what its first request made.
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_reply.id", ondelete="CASCADE"), index=True
    )
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_note.id", ondelete="CASCADE"), index=True
    )
    # The API's first answer, replayed byte for byte.
    response_status: Mapped[int | None]
    response_content_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[str | None] = mapped_column(LongText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    ticket: Mapped[Ticket | None] = relationship()
    reply: Mapped[TicketReply | None] = relationship()
    note: Mapped[TicketNote | None] = relationship()
