"""Files chosen on a form that came back with errors, kept server-side so nobody re-uploads them.

Each compose form carries a draft token, signed with a key kept in the session cookie, so one
browser can never reach another's held files. Held files live under instance/held-uploads/
and are removed when the ticket is opened or after HELD_UPLOADS_MAX_AGE seconds.
"""

import hashlib
import hmac
import re
import secrets
import shutil
import time
from collections.abc import Iterator, MutableMapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import Signer
from werkzeug.datastructures import FileStorage, MultiDict

from portal.tickets import IncomingFile, TicketSettings, attachment_problem
from portal.tickets.attachments import CHUNK, safe_name

# A hex nonce, ".", and the URL-safe base64 of its signature: also a safe directory name.
_DRAFT_TOKEN = re.compile(r"[0-9a-f]{24}\.[A-Za-z0-9_-]{43}")

_SESSION_KEY = "draft_key"
_SEPARATOR = "__"


@dataclass(frozen=True)
class HeldFile:
    key: str
    name: str
    size: int
    path: Path


def _signer(session: MutableMapping) -> Signer:
    # Signed with a key kept in the (signed) session cookie: another browser's token fails.
    # A signed token rather than a list of issued tokens in the cookie: showing a form then
    # changes the session only the first time, and the cookie stays small.
    key = session.get(_SESSION_KEY)
    if key is None:
        key = session[_SESSION_KEY] = secrets.token_urlsafe(16)
    return Signer(key, salt="portal.draft-token", sep=".", digest_method=hashlib.sha256)


def new_draft_token(session: MutableMapping) -> str:
    """A token for a freshly shown form: a nonce signed with this session's draft key."""
    return _signer(session).sign(secrets.token_hex(12)).decode()


def owns_draft(session: MutableMapping, token: str | None) -> bool:
    if _SESSION_KEY not in session or not token or not _DRAFT_TOKEN.fullmatch(token):
        return False
    # Compared with the one token signing makes, not merely checked: base64 would also take a
    # last character differing in its unused bits, and the token names a directory.
    nonce = token.partition(".")[0]
    return hmac.compare_digest(_signer(session).sign(nonce).decode(), token)


def draft_of_post(session: MutableMapping, token: str | None) -> str:
    """The posted draft token if this session issued it, else a new one."""
    return token if token and owns_draft(session, token) else new_draft_token(session)


def chosen_files(files: MultiDict[str, FileStorage]) -> list[FileStorage]:
    """The files of the form's file input; a browser sends one empty part when none is chosen."""
    return [upload for upload in files.getlist("attachments") if upload.filename]


class HeldUploads:
    """The files held for one draft."""

    def __init__(self, root: Path, token: str):
        self.directory = root / token

    @classmethod
    def for_draft(cls, root: Path, session: MutableMapping, token: str | None) -> "HeldUploads":
        """The draft's held files; a token this session did not issue gets an unusable empty set."""
        if token is None or not owns_draft(session, token):
            return _NoHeldUploads()
        return cls(root, token)

    def files(self) -> list[HeldFile]:
        if not self.directory.is_dir():
            return []
        held = []
        for path in sorted(self.directory.iterdir()):
            key, _, name = path.name.partition(_SEPARATOR)
            held.append(HeldFile(key, name, path.stat().st_size, path))
        return held

    def hold(self, upload: FileStorage, settings: TicketSettings) -> HeldFile | None:
        """Keep an uploaded file for the next try, unless the core would refuse it anyway."""
        name = safe_name(upload.filename or "")
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if attachment_problem(name, size, settings):
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{secrets.token_hex(6)}{_SEPARATOR}{name}"
        with open(path, "xb") as out:
            shutil.copyfileobj(upload.stream, out, CHUNK)
        return HeldFile(path.name.partition(_SEPARATOR)[0], name, size, path)

    def remove(self, keys: list[str]) -> None:
        for held in self.files():
            if held.key in keys:
                held.path.unlink(missing_ok=True)

    @contextmanager
    def with_new(self, new_files: list[FileStorage]) -> Iterator[list[IncomingFile]]:
        """The held files, opened, and the newly chosen ones: what the core is given."""
        with ExitStack() as stack:
            held = [
                IncomingFile(file.name, stack.enter_context(open(file.path, "rb")))
                for file in self.files()
            ]
            yield held + [IncomingFile(f.filename or "", f.stream) for f in new_files]

    def hold_all(self, uploads: list[FileStorage], settings: TicketSettings) -> None:
        for upload in uploads:
            self.hold(upload, settings)

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class _NoHeldUploads(HeldUploads):
    def __init__(self):
        self.directory = Path("/nonexistent-held-uploads")

    def hold(self, upload: FileStorage, settings: TicketSettings) -> None:
        return None


# A form's successful submission prunes at most this often per process and directory.
PRUNE_INTERVAL_SECONDS = 600.0
_next_prune: dict[Path, float] = {}


def prune_expired_now_and_then(root: Path, max_age_seconds: int) -> int:
    """prune_expired, unless this process did so in the last PRUNE_INTERVAL_SECONDS.

    Pruning looks at every held draft, so it is not repeated on every submission; drafts live
    for a day, so a few minutes late changes nothing. `flask prune` removes them too.
    """
    now = time.monotonic()
    if now < _next_prune.get(root, 0.0):
        return 0
    _next_prune[root] = now + PRUNE_INTERVAL_SECONDS
    return prune_expired(root, max_age_seconds)


def prune_expired(root: Path, max_age_seconds: int) -> int:
    """Remove drafts nobody came back to; returns how many were removed."""
    if not root.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    for draft in root.iterdir():
        if draft.stat().st_mtime < cutoff:
            shutil.rmtree(draft, ignore_errors=True)
            removed += 1
    return removed
