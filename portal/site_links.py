"""Links to the site's fixed pages, built once per mount point instead of on every page."""

from flask import Flask, current_app, request, url_for


def register_site_links(app: Flask) -> None:
    app.extensions["site_links"] = {}
    app.add_template_global(site_link)


def site_link(endpoint: str, **values: str) -> str:
    """`url_for` for a link that varies only with where the portal is mounted."""
    # A relative URL depends on the URL map, fixed once the app serves, and the script root,
    # which may differ per request (gunicorn takes a SCRIPT_NAME header from a trusted proxy):
    # hence the key.
    key = (request.script_root, endpoint, *values.items())
    links = current_app.extensions["site_links"]
    link = links.get(key)
    if link is None:
        link = links[key] = url_for(endpoint, **values)
    return link
