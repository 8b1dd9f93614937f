"""The guest's blank compose page: rendered once per worker and department data, then refilled.

Every guest who opens a ticket first GETs the same empty form, which differs from one guest to
the next only in its hidden values: the CSRF token, the draft token and the signed moment it
was shown. Rendering the template cost more than the rest of that request (bench/README.md,
eighth sitting), so the page is rendered once, cut at those values, and later guests get the
pieces joined with their own. The pieces are kept under everything else the page is made of,
which the caller names in the key: an operator's change to a department shows on the next GET.
"""

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from flask import current_app
from flask.blueprints import BlueprintSetupState
from markupsafe import escape

from portal.client import client

# Each key is one department's page at one mount point; old ones are dropped all at once.
MAX_PAGES = 64


@dataclass(frozen=True, slots=True)
class CutPage:
    """A page as fixed pieces with a named value between each two: pieces[i], holes[i], ..."""

    pieces: tuple[str, ...]
    holes: tuple[str, ...]

    @classmethod
    def cut(cls, page: str, values: Mapping[str, str]) -> "CutPage | None":
        """The page cut at each of the values; None unless each shows, as the template escapes it.

        A page that also shows a value unescaped is never kept: that copy could not be cut out
        and would be served to the next guest. The values must be ones no template transforms
        further (tokens, not text a filter changes).
        """
        escaped = {str(escape(value)): name for name, value in values.items()}
        if len(escaped) != len(values) or not all(text in page for text in escaped):
            return None
        parts = re.split(f"({'|'.join(map(re.escape, escaped))})", page)
        pieces = tuple(parts[0::2])
        if any(value in piece for piece in pieces for value in values.values()):
            return None
        return cls(pieces, tuple(escaped[text] for text in parts[1::2]))

    def filled(self, values: Mapping[str, str]) -> str:
        joined = [self.pieces[0]]
        for hole, piece in zip(self.holes, self.pieces[1:], strict=True):
            joined += (escape(values[hole]), piece)
        return "".join(joined)


@client.record_once
def _keep_blank_forms(state: BlueprintSetupState) -> None:
    state.app.extensions["blank_forms"] = {}


def blank_form(key: Hashable, values: Mapping[str, str], render: Callable[[], str]) -> str:
    """The page for `key` with these values, rendered by `render` the first time.

    `render` must show exactly `values`; the key must name everything else the page depends on.
    A worker reloading templates (debug) always renders, so that an edited template shows.
    """
    if current_app.jinja_env.auto_reload:
        return render()
    kept: dict = current_app.extensions["blank_forms"]
    cut = kept.get(key)
    if cut is not None:
        return cut.filled(values)
    page = render()
    if (cut := CutPage.cut(page, values)) is not None:
        if len(kept) >= MAX_PAGES:
            kept.clear()
        kept[key] = cut
    return page
