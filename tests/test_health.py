"""GET /healthz answers 200 while the database answers, and 503 when it cannot be reached."""

import pytest

from portal import create_app
from portal.health import health


def _with_health(app):
    # Until create_app registers the blueprint itself.
    if "health" not in app.blueprints:
        app.register_blueprint(health)
    return app


@pytest.fixture
def health_client(app):
    return _with_health(app).test_client()


def test_healthz_is_ok_when_the_database_answers(health_client):
    response = health_client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_unavailable_when_the_database_cannot_be_opened(app_config, tmp_path):
    unreachable = tmp_path / "no-such-directory" / "portal.sqlite3"
    app = _with_health(
        create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{unreachable}"})
    )

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
