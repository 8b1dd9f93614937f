"""Links to the site's fixed pages, built once per mount point instead of on every page."""

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for


@dataclass(frozen=True, slots=True)
class LayoutLinks:
    """Every link of the client layout, for one mount point."""

    stylesheet: str
    home: str
    submit_ticket: str
    my_tickets: str
    choose_account: str
    login: str
    logout: str


def register_site_links(app: Flask) -> None:
    app.extensions["site_links"] = {}
    app.add_template_global(site_link)
    app.add_template_global(layout_links)


def site_link(endpoint: str, **values: str) -> str:
    """`url_for` for a link that varies only with where the portal is mounted."""
    # A relative URL depends on the URL map, fixed once the app serves, and the script root,
    # which may differ per request (gunicorn takes a SCRIPT_NAME header from a trusted proxy):
    # hence the key.
    return _remembered(
        (request.script_root, endpoint, *values.items()), url_for, endpoint, **values
    )


def layout_links() -> LayoutLinks:
    """The layout's links in one call: each `site_link` call from a template costs a few µs."""
    return _remembered((request.script_root, LayoutLinks), _build_layout_links)


def _build_layout_links() -> LayoutLinks:
    return LayoutLinks(
        stylesheet=url_for("static", filename="portal.css"),
        home=url_for("client.home"),
        submit_ticket=url_for("client.submit_ticket"),
        my_tickets=url_for("client.my_tickets"),
        choose_account=url_for("client.choose_account_page"),
        login=url_for("client.login"),
        logout=url_for("client.logout"),
    )


def _remembered(key: tuple, build, /, *args, **kwargs):
    """What build(*args, **kwargs) gave for this key, built on first use."""
    remembered = current_app.extensions["site_links"]
    found = remembered.get(key)
    if found is None:
        found = remembered[key] = build(*args, **kwargs)
    return found
