"""Browser tests: CSRF on; the live server and Chromium come from tests/browser_fixtures.py."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def app_config(app_config):
    """Browser tests run with CSRF protection on, as a real deployment does."""
    return {**app_config, "WTF_CSRF_ENABLED": True}
