"""Pages every guest gets alike but for a few values: rendered once per worker, then refilled.

Two of a guest's three pages for a new ticket are such pages, and so is a guest's view of a
ticket. The blank compose form differs from one guest to the next only in its hidden values (the
CSRF token, the draft token and the signed moment it was shown), the confirmation only in the
new ticket's number and access code, and the view only in the ticket's texts. Rendering their
templates cost more than the rest of those requests (bench/README.md, eighth to tenth
sittings), so each is rendered once, cut where the values go, and later guests get the pieces
joined with their own. The pieces are kept under everything else the page is made of, which
the caller names in the key: a page made of other department rows is a page of its own.
"""

import re
import secrets
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass

from flask import current_app, session
from flask.blueprints import BlueprintSetupState
from markupsafe import escape

from portal.client import client

# A few pages per mount point and department; old ones are dropped all at once.
MAX_PAGES = 64
# Characters a query string carries as they are (RFC 3986's unreserved ones): a value made of
# them can be filled into a kept page's links as it is filled into its text.
UNCHANGED_BY_URL_QUOTING = re.compile(r"[A-Za-z0-9._~-]+")


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
def _keep_pages(state: BlueprintSetupState) -> None:
    state.app.extensions["kept_pages"] = {}


def kept_page(
    key: Hashable,
    values: Mapping[str, str],
    render: Callable[[Mapping[str, str]], str],
    *,
    private: Collection[str] | None = None,
) -> str:
    """The page for `key` showing `values`; `render(shown)` makes the page that shows `shown`.

    The key must name everything else the page depends on. A page with a flashed message
    waiting, and every page in a worker that reloads templates (debug), are rendered each time.
    `private` names the values (all, unless given) that no fixed text may show: one that does
    reached the template by another way than `shown`. Leave out text that pages commonly show
    anyway, a status "Open" beside the link "Open a ticket".
    """
    if current_app.jinja_env.auto_reload or "_flashes" in session:
        return render(values)
    kept: dict = current_app.extensions["kept_pages"]
    cut = kept.get(key)
    if cut is None:
        # Rendered with stand-ins that no template text contains, so the page is cut where the
        # values go and nowhere else, however short or common a value (a ticket number "1").
        stand_ins = {name: secrets.token_hex(16) for name in values}
        cut = CutPage.cut(render(stand_ins), stand_ins)
        # A value in the fixed text may have come from elsewhere than `shown` (the session's
        # CSRF token, say): kept, it would be served to every guest. Render this one in full.
        checked = [values[name] for name in values if private is None or name in private]
        either_form = {text for value in checked for text in (value, str(escape(value)))}
        if (
            cut is None
            or any(text in piece for piece in cut.pieces for text in either_form)
            or _shows_a_changed_stand_in(cut, stand_ins.values())
        ):
            return render(values)
        if len(kept) >= MAX_PAGES:
            kept.clear()
        kept[key] = cut
    return cut.filled(values)


def _shows_a_changed_stand_in(cut: CutPage, stand_ins: Iterable[str]) -> bool:
    # A filter that changed a stand-in (upper, truncate) left it in the fixed text, where every
    # later guest would get it. Eight of its characters in a row, in either case, give it away.
    fixed = "".join(cut.pieces).lower()
    return any(
        stand_in[start : start + 8] in fixed
        for stand_in in stand_ins
        for start in range(len(stand_in) - 7)
    )
