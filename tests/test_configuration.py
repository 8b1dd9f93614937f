"""Configuration order and the refusal to run in production with the development secret."""

import pytest

from portal import create_app
from portal.configuration import DEVELOPMENT_SECRET_KEY


def test_production_refuses_the_development_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_testing_may_use_the_development_secret(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY


def test_prefixed_environment_variables_override_defaults(monkeypatch):
    monkeypatch.setenv("PORTAL_TICKET_MASK", "%n%n%n")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-the-environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["TICKET_MASK"] == "%n%n%n"
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_without_configuration_it_uses_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("PORTAL_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{app.instance_path}/portal.sqlite3"
    )


def test_sqlite_runs_in_wal_mode(app):
    from portal.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("WAL is SQLite's")
    assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
