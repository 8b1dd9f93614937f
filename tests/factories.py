"""Factories for records, committed so that requests made by the test client see them."""

import functools
import itertools

from portal.api.credentials import create_api_credential
from portal.extensions import db
from portal.models import (
    AccountMembership,
    ApiCredential,
    ClientAccount,
    Contact,
    CustomField,
    Department,
    Domain,
    Service,
    StaffMember,
    User,
)

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


@functools.cache
def _hashed_password(model: type, password: str) -> dict[str, str | None]:
    """A real hash, computed once per password: scrypt costs ~0.1 s, and tests make many users."""
    record = model()
    record.set_password(password)
    return {
        "password_hash": record.password_hash,
        "legacy_api_password_hash": getattr(record, "legacy_api_password_hash", None),
    }


def _with_password(record, password: str):
    for column, value in _hashed_password(type(record), password).items():
        if hasattr(type(record), column):
            setattr(record, column, value)
    return record


def _saved(record):
    db.session.add(record)
    db.session.commit()
    return record


def department(**fields) -> Department:
    n = next(_sequence)
    fields.setdefault("name", f"Department {n}")
    fields.setdefault("email", f"department{n}@example.com")
    return _saved(Department(**fields))


def custom_field(department: Department, **fields) -> CustomField:
    fields.setdefault("name", f"Field {next(_sequence)}")
    return _saved(CustomField(department=department, **fields))


def user(password: str = PASSWORD, **fields) -> User:
    n = next(_sequence)
    fields.setdefault("first_name", "Uma")
    fields.setdefault("last_name", f"User{n}")
    fields.setdefault("email", f"user{n}@example.com")
    return _saved(_with_password(User(**fields), password))


def client_account(
    owner: User | None = None, *, with_owner: bool = True, **fields
) -> ClientAccount:
    """A client account, with an owner user unless with_owner=False."""
    n = next(_sequence)
    fields.setdefault("first_name", "Carla")
    fields.setdefault("last_name", f"Client{n}")
    fields.setdefault("email", f"client{n}@example.com")
    account = _saved(ClientAccount(**fields))
    if with_owner:
        owner = owner or user(first_name=account.first_name, last_name=account.last_name)
        member(account, owner, is_owner=True)
    return account


def member(account: ClientAccount, user: User, *, is_owner: bool = False) -> AccountMembership:
    return _saved(AccountMembership(client=account, user=user, is_owner=is_owner))


def contact(account: ClientAccount, **fields) -> Contact:
    n = next(_sequence)
    fields.setdefault("first_name", "Cody")
    fields.setdefault("last_name", f"Contact{n}")
    fields.setdefault("email", f"contact{n}@example.com")
    return _saved(Contact(client=account, **fields))


def service(account: ClientAccount, **fields) -> Service:
    fields.setdefault("product_name", "Web Hosting")
    fields.setdefault("domain", f"site{next(_sequence)}.example.com")
    return _saved(Service(client=account, **fields))


def domain(account: ClientAccount, **fields) -> Domain:
    fields.setdefault("name", f"domain{next(_sequence)}.example.com")
    return _saved(Domain(client=account, **fields))


def staff(password: str = PASSWORD, **fields) -> StaffMember:
    n = next(_sequence)
    fields.setdefault("username", f"staff{n}")
    fields.setdefault("first_name", "Stan")
    fields.setdefault("last_name", f"Staff{n}")
    fields.setdefault("email", f"staff{n}@example.com")
    return _saved(_with_password(StaffMember(**fields), password))


def api_credential(staff_member: StaffMember | None = None, **fields) -> tuple[ApiCredential, str]:
    """A credential and its plain secret."""
    credential, secret = create_api_credential(db.session, staff_member or staff(), **fields)
    db.session.commit()
    return credential, secret
