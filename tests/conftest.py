"""Fixtures shared by every test: a migrated database, the app, a client, and record factories.

The suite runs on SQLite unless PORTAL_TEST_DATABASE_URL names a PostgreSQL or MariaDB
database, which is emptied and migrated at the start of the run.
"""

import os
from pathlib import Path

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db, register_migrations
from portal.mail import relay_of
from portal.tickets import TicketSettings
from tests import factories
from tests.factories import PASSWORD

# One live server and one Chromium for every directory that has browser tests: Playwright's
# sync API cannot run two instances in one thread.
pytest_plugins = ["tests.browser_fixtures"]

TEST_SECRET_KEY = "test-secret-key"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"
    _empty_database(url)
    app = create_app(_config(url, tmp_path_factory.mktemp("instance-files")))
    register_migrations(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _empty_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    maintenance_database = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
    server = create_engine(parsed.set(database=maintenance_database), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        name = parsed.database
        if parsed.get_backend_name() == "postgresql":
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        else:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            connection.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
    server.dispose()


def _config(url: str, files: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": url,
        "ATTACHMENTS_DIR": str(files / "attachments"),
        "HELD_UPLOADS_DIR": str(files / "held-uploads"),
        "MAIL_EML_DIR": str(files / "mail"),
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://portal.test",
        # Tests post the guest form at once, as robots do; tests/abuse sets a minimum.
        "GUEST_FORM_MIN_SECONDS": 0,
    }


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """The test app's configuration; override this fixture (or mutate it) to change a setting."""
    return _config(database_url, tmp_path)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.before_request(_forget_request_state)
    with app.app_context():
        yield app
        # The test's own transaction ends first: delivery may be waiting for its write lock.
        db.session.remove()
        # Email goes out from a background thread after each commit; let it finish.
        relay = relay_of(app)
        assert relay is None or relay.wait(30), "after-commit email delivery still running"
        _delete_all_rows()
        db.engine.dispose()


def _forget_request_state() -> None:
    """Start each test request as a real one starts: without a cached identity or CSRF token.

    The test's app context outlives its requests, and Flask-Login and Flask-WTF cache in `g`;
    without this one test client's login or token would carry into the next request.
    """
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _delete_all_rows() -> None:
    tables = set(inspect(db.engine).get_table_names())
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            if table.name in tables:
                connection.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def staff_member(make):
    return make.staff()


@pytest.fixture
def staff_client(client, staff_member):
    """The test client, signed in as `staff_member` through the login form."""
    response = client.post(
        "/staff/login", data={"username": staff_member.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def settings(app) -> TicketSettings:
    return TicketSettings.from_config(app.config)


@pytest.fixture
def make(app):
    """Record factories: make.department(), make.client_account(), make.staff(), ..."""
    return factories


@pytest.fixture
def attachments_dir(app) -> Path:
    return Path(app.config["ATTACHMENTS_DIR"])


def stored_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []
