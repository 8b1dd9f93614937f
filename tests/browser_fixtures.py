"""Browser fixtures: a live portal on a loopback port and Debian's Chromium driven by Playwright.

Playwright cannot download its own browsers on our machines, so the tests use the system
Chromium (scripts/setup installs Debian's package when it is missing). tests/conftest.py
registers this module as a plugin, so every test directory has these fixtures.
"""

import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine has no outside network; without these Chromium keeps trying to reach Google.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    """The test app served on a free loopback port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is missing: run scripts/setup --test (installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    context = chromium.new_context()
    yield context
    context.close()


@pytest.fixture
def page(browser_context, live_server):
    """A fresh page; `page.goto("/path")` is relative to the live server."""
    browser_context.set_default_timeout(10_000)
    page = browser_context.new_page()
    page.base_url = live_server
    yield page
    page.close()


@pytest.fixture
def new_context(chromium, live_server):
    """Opens further browser contexts (a second person, or one with JavaScript off)."""
    contexts = []

    def open_context(**options):
        context = chromium.new_context(base_url=live_server, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
