"""The operator's brand: SITE_NAME, LOGO_URL or an instance logo, ACCENT_COLOR; and the favicon."""

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.branding import (
    DARK_BACKGROUNDS,
    LIGHT_BACKGROUNDS,
    LOGO_POLICY,
    Brand,
    _rgb,
    accent_css,
    contrast,
)
from portal.extensions import db
from portal.mail import outbox
from portal.models import OutboxMessage
from portal.security import CONTENT_SECURITY_POLICY
from portal.tickets import OpenTicketRequest, TicketSettings, open_ticket


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SITE_NAME": "  Acme   Help ", "ACCENT_COLOR": "#C2410C"}


def test_the_site_name_is_in_the_header_and_every_title(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<span class="brand-name">Acme Help</span>' in page
    assert "<title>Log in · Acme Help</title>" in page
    staff_page = client.get("/staff/login").get_data(as_text=True)
    assert "<title>Staff sign in · Staff · Acme Help</title>" in staff_page


def test_the_accent_reaches_pages_through_a_stylesheet_of_our_own(client):
    page = client.get("/").get_data(as_text=True)
    [href] = re.findall(r'<link rel="stylesheet" href="(/brand\.css\?v=\w+)">', page)
    response = client.get(href)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "--accent:" in response.get_data(as_text=True)
    # No inline style and no nonce: the policy stays as strict as it was.
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "style-src 'self';" in CONTENT_SECURITY_POLICY
    assert " style=" not in page


@pytest.mark.parametrize("accent", ["#ffff00", "#000000", "#0b57a4", "#7fffd4", "#f0f"])
def test_any_accent_is_made_legible_in_both_schemes(accent):
    css = accent_css(accent)
    light, dark = re.findall(r"--accent: (#[0-9a-f]{6});", css)
    on_light, on_dark = re.findall(r"--on-accent: (#[0-9a-f]{6});", css)
    for ground in LIGHT_BACKGROUNDS:
        assert contrast(_rgb(light), _rgb(ground)) >= 4.5
    for ground in DARK_BACKGROUNDS:
        assert contrast(_rgb(dark), _rgb(ground)) >= 4.5
    assert contrast(_rgb(light), _rgb(on_light)) >= 4.5
    assert contrast(_rgb(dark), _rgb(on_dark)) >= 4.5


def test_without_an_accent_no_brand_stylesheet_is_linked(app_config):
    app = create_app({**app_config, "ACCENT_COLOR": ""})
    page = app.test_client().get("/").get_data(as_text=True)
    assert "brand.css" not in page
    assert "<title>Support · Acme Help</title>" in page


@pytest.mark.parametrize("accent", ["red", "#12345", "#1234567", "rgb(1,2,3)", "#0b57a4;x"])
def test_a_wrong_accent_stops_the_start_with_the_reason(app_config, accent):
    with pytest.raises(RuntimeError, match=r"ACCENT_COLOR .* #rrggbb"):
        create_app({**app_config, "ACCENT_COLOR": accent})


@pytest.mark.parametrize(
    "url", ["https://cdn.example.com/logo.png", "//cdn.example.com/logo.png", "logo.png"]
)
def test_a_logo_from_another_site_is_refused(app_config, url):
    with pytest.raises(RuntimeError, match="LOGO_URL"):
        create_app({**app_config, "LOGO_URL": url})


def test_a_logo_url_on_this_site_is_shown(app_config):
    app = create_app({**app_config, "LOGO_URL": "/static/favicon.svg"})
    page = app.test_client().get("/").get_data(as_text=True)
    assert '<img class="brand-logo" src="/static/favicon.svg" alt="">' in page


def test_a_logo_in_the_instance_folder_is_served_as_an_image(app_config, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nlogo")
    app = create_app(app_config)
    # The brand is read when the app is made, from its instance folder: here, this one.
    app.extensions["portal_brand"] = Brand.from_config(app.config, str(instance))
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert '<img class="brand-logo" src="/brand/logo" alt="">' in page
    logo = client.get("/brand/logo")
    assert logo.status_code == 200
    assert logo.mimetype == "image/png"
    assert logo.data == b"\x89PNG\r\n\x1a\nlogo"
    assert logo.headers["Content-Security-Policy"] == LOGO_POLICY


def test_no_logo_no_image(client):
    assert "brand-logo" not in client.get("/").get_data(as_text=True)
    assert client.get("/brand/logo").status_code == 404


def test_the_favicon(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg")


def test_the_emails_carry_the_site_name(app, make):
    department = make.department(name="Sales")
    request = OpenTicketRequest(
        deptid=department.id, name="Gus", email="gus@example.com", subject="Hi", message="Hello"
    )
    ticket = open_ticket(db.session, request, TicketSettings.from_config(app.config))
    db.session.commit()
    row = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.kind == "ticket_opened"
        )
    )
    composed = outbox.compose(row, outbox.MessageSettings.from_config(app.config))
    message = email.message_from_string(composed.message, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n").endswith("Sales\nAcme Help\n")
    assert "border-top:4px solid #C2410C" in html
    assert ">Acme Help</a>" in html
    assert outbox.confirmation_recipient(db.session, ticket) == "gus@example.com"
