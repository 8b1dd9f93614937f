from portal.api import api  # noqa: F401
