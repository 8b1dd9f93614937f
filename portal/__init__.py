"""portal: a self-hosted support portal that opens tickets exactly as WHMCS's OpenTicket does."""

from flask import Flask

from portal import (
    branding,
    cli,
    configuration,
    error_pages,
    extensions,
    identity,
    security,
)

# The blueprints under names of their own: bound as `api` or `client`, they would hide the
# packages portal.api and portal.client from `import portal.api.views`.
from portal.api import api as api_door
from portal.client import client as client_door
from portal.health import health as health_check
from portal.mail import register_mail
from portal.rendering import register_template_filters
from portal.staff import staff as staff_door


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    configuration.load(app, test_config)
    extensions.register_extensions(app)
    identity.register_identity(app)
    security.register_security(app)
    register_template_filters(app)
    register_mail(app)
    branding.register_branding(app)
    register_blueprints(app)
    error_pages.register_error_pages(app)
    cli.register_commands(app)
    return app


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(client_door)
    app.register_blueprint(staff_door, url_prefix="/staff")
    app.register_blueprint(api_door)
    app.register_blueprint(health_check)
