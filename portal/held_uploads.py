"""Files chosen on a form that came back with errors, kept server-side so nobody re-uploads them.

Each compose form carries a draft token, signed with a key kept in the session cookie, so one
browser can never reach another's held files. Held files live under instance/held-uploads/,
one directory per browser session, one in it per draft, and one in that per file, named by the
file's key, which holds the file under its own name (safe_name() keeps names within the file
system's 255 bytes). They are removed when the ticket is opened or after HELD_UPLOADS_MAX_AGE
seconds.
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

from flask import current_app, request
from itsdangerous import Signer
from werkzeug.datastructures import FileStorage, MultiDict

from portal.extensions import RateLimit
from portal.tickets import FieldError, IncomingFile, TicketSettings, attachment_problem
from portal.tickets.attachments import CHUNK, format_size, peek, safe_name

# A hex nonce, ".", and the URL-safe base64 of its signature: also a safe directory name.
_DRAFT_TOKEN = re.compile(r"[0-9a-f]{24}\.[A-Za-z0-9_-]{43}")

_SESSION_KEY = "draft_key"
# A held file's key: its place in the order chosen, zero-padded so that keys sort as numbers
# do, and a random part (see _next_key).
_HELD_KEY = re.compile(r"\d{6}-[0-9a-f]{8}")


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


FILE_NOT_KEPT = "The file {name} was not kept for your next try: {why}. Choose it again."
TOO_MANY_FILES = "a form keeps at most {count} files"
SESSION_FULL = "the files kept for your forms already take {size}"
STORE_FULL = "there is no room left for kept files just now"
TOO_MANY_HOLDS = "too many files were kept for your network in a short time"
HOLDS_PER_IP = RateLimit("RATELIMIT_HELD_UPLOADS_PER_IP")


class HeldUploads:
    """The files held for one draft, in a directory of the browser session's own drafts.

    What a form may leave here is bounded: files per draft, bytes per session, bytes for all
    drafts together, and files held per address (a rate limit), so that nobody can fill the
    disk with forms they never send.
    """

    def __init__(self, root: Path, session_key: str, token: str):
        self.root = root
        # Named by a digest: the session's draft key stays in the session cookie alone.
        self.session_directory = root / hashlib.sha256(session_key.encode()).hexdigest()[:32]
        self.directory = self.session_directory / token

    @classmethod
    def for_draft(cls, session: MutableMapping, token: str | None) -> "HeldUploads":
        """The draft's held files; a token this session did not issue gets an unusable empty set."""
        if token is None or not owns_draft(session, token):
            return _NoHeldUploads()
        return cls(held_root(), session[_SESSION_KEY], token)

    def files(self) -> list[HeldFile]:
        """The held files in the order they were chosen: their keys sort so (see _next_key)."""
        if not self.directory.is_dir():
            return []
        held = []
        for folder in sorted(self.directory.iterdir()):
            if _HELD_KEY.fullmatch(folder.name) and folder.is_dir():
                held += [
                    HeldFile(folder.name, path.name, path.stat().st_size, path)
                    for path in folder.iterdir()
                ]
        return held

    def hold(self, upload: FileStorage, settings: TicketSettings) -> FieldError | None:
        """Keep an uploaded file for the next try; why it was not kept, if the core would take it.

        A file the core would refuse anyway is not kept and needs no word: the form shows the
        core's reason when it is sent.
        """
        name = safe_name(upload.filename or "")
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if attachment_problem(name, size, settings, peek(upload.stream)):
            return None
        why = self._no_room(size)
        if why is None and not HOLDS_PER_IP.count(request.remote_addr or ""):
            why = TOO_MANY_HOLDS
        if why is not None:
            return FieldError(("attachments",), FILE_NOT_KEPT.format(name=name, why=why))
        folder = self.directory / self._next_key()
        folder.mkdir(parents=True)
        with open(folder / name, "xb") as out:
            shutil.copyfileobj(upload.stream, out, CHUNK)
        return None

    def _next_key(self) -> str:
        """A key after every held file's: a sequence number, then a random part, so that a key
        is not used again for a file chosen after a removed one (a stale form's Remove box)."""
        following = max((int(held.key[:6]) for held in self.files()), default=0) + 1
        return f"{following:06d}-{secrets.token_hex(4)}"

    def _no_room(self, size: int) -> str | None:
        config = current_app.config
        count = int(config["HELD_UPLOADS_MAX_FILES_PER_DRAFT"])
        if len(self.files()) >= count:
            return TOO_MANY_FILES.format(count=count)
        per_session = int(config["HELD_UPLOADS_MAX_BYTES_PER_SESSION"])
        if _bytes_under(self.session_directory) + size > per_session:
            return SESSION_FULL.format(size=format_size(per_session))
        if _bytes_under(self.root) + size > int(config["HELD_UPLOADS_MAX_BYTES_TOTAL"]):
            return STORE_FULL
        return None

    def remove(self, keys: list[str]) -> None:
        for held in self.files():
            if held.key in keys:
                shutil.rmtree(held.path.parent, ignore_errors=True)

    @contextmanager
    def with_new(self, new_files: list[FileStorage]) -> Iterator[list[IncomingFile]]:
        """The held files, opened, and the newly chosen ones: what the core is given."""
        with ExitStack() as stack:
            held = [
                IncomingFile(file.name, stack.enter_context(open(file.path, "rb")))
                for file in self.files()
            ]
            yield held + [IncomingFile(f.filename or "", f.stream) for f in new_files]

    def hold_all(self, uploads: list[FileStorage], settings: TicketSettings) -> list[FieldError]:
        """Hold each file; the words for those that could not be kept."""
        return [error for upload in uploads if (error := self.hold(upload, settings))]

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class _NoHeldUploads(HeldUploads):
    def __init__(self):
        self.root = self.session_directory = self.directory = Path("/nonexistent-held-uploads")

    def hold(self, upload: FileStorage, settings: TicketSettings) -> None:
        return None


def held_root() -> Path:
    return Path(current_app.config["HELD_UPLOADS_DIR"])


def _bytes_under(directory: Path) -> int:
    if not directory.is_dir():
        return 0
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


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
    """Remove drafts nobody came back to, and emptied sessions; returns how many drafts."""
    if not root.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    for session_directory in root.iterdir():
        if not session_directory.is_dir():
            continue
        for draft in session_directory.iterdir():
            if draft.stat().st_mtime < cutoff:
                shutil.rmtree(draft, ignore_errors=True)
                removed += 1
        if not any(session_directory.iterdir()):
            session_directory.rmdir()
    return removed
