"""Reading pages as a browser does, for tests that send a form back."""

import re
from html import unescape


def hidden_fields(page: str) -> dict[str, str]:
    """The form's hidden inputs, by name, as the browser would send them."""
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }
