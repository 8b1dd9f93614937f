"""Fixtures for the staff area: a signed-in staff member and the records a ticket names."""

import pytest


@pytest.fixture
def department(make):
    return make.department(name="Support")
