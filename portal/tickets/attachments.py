"""Attachment checks and storage; files written for a transaction vanish if it does not commit."""

import hashlib
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import filetype
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

# Never accepted, whatever the configuration says: server-side scripts and dot files.
ALWAYS_REFUSED_EXTENSIONS = frozenset({"php", "cgi", "pl", "htaccess"})
# A file name's limit on Linux file systems, in bytes of UTF-8; held files are kept under their
# names, and the name column takes 255 characters.
MAX_NAME_BYTES = 255
# An extension longer than this is no extension a configuration lists; it is not kept whole.
MAX_EXTENSION_BYTES = 32
CHUNK = 1024 * 1024
_PENDING_FILES = "portal.pending_attachment_files"
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


@dataclass
class IncomingFile:
    """A file as a door received it: a name and a readable binary stream."""

    name: str
    stream: IO[bytes]

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> "IncomingFile":
        return cls(name, io.BytesIO(data))


@dataclass
class StoredFile:
    original_name: str
    stored_name: str
    size: int
    content_type: str
    sha256: str


def safe_name(name: str) -> str:
    """The file name a person meant, without path, control characters or odd Unicode forms,
    shortened to MAX_NAME_BYTES."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _shortened(_UNSAFE_CHARACTERS.sub("", name).strip())


def _shortened(name: str) -> str:
    """The name cut to MAX_NAME_BYTES of UTF-8 on a character boundary, keeping its extension."""
    encoded = name.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem or len(suffix.encode("utf-8", "surrogatepass")) > MAX_EXTENSION_BYTES:
        stem, suffix = name, ""
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8", "surrogatepass"))
    cut = stem.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore").rstrip()
    return cut + suffix


def refusal(name: str, allowed_extensions: frozenset[str]) -> str | None:
    """Why a file of this (safe) name may not be attached, or None."""
    if not name:
        return "An attachment has no file name"
    if name.startswith("."):
        return f"The file {name} is not allowed: names starting with a dot are refused"
    parts = name.lower().split(".")
    if any(part in ALWAYS_REFUSED_EXTENSIONS for part in parts[1:]):
        return f"The file {name} is not allowed: that file type is never accepted"
    extension = "." + parts[-1] if len(parts) > 1 else ""
    if extension not in allowed_extensions:
        allowed = ", ".join(sorted(allowed_extensions))
        return f"The file {name} is not allowed. Allowed file extensions: {allowed}"
    return None


def too_large(name: str, limit: int) -> str:
    return f"The file {name} is larger than the {format_size(limit)} limit"


def format_size(size: int) -> str:
    amount = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:g} {unit}" if unit == "bytes" else f"{amount:.3g} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def stored_path(directory: Path, stored_name: str) -> Path:
    return directory / stored_name[:2] / stored_name


class FileTooLarge(Exception):
    pass


def store(
    session: Session, directory: Path, incoming: IncomingFile, name: str, max_bytes: int
) -> StoredFile:
    """Stream a file to disk under a random name, tied to the session's transaction."""
    stored_name = secrets.token_hex(16)
    path = stored_path(directory, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    _pending(session).append(path)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(path, "xb") as out:
            while chunk := incoming.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(name)
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        _remove(path)
        raise
    return StoredFile(name, stored_name, size, detect_content_type(head), digest.hexdigest())


def detect_content_type(head: bytes) -> str:
    """The type the bytes show; the name and the uploader's claim are never trusted."""
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return kind.mime
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return "application/octet-stream"
    return "text/plain"


class HasStoredName(Protocol):
    stored_name: str


def discard_files(directory: Path, files: Iterable[HasStoredName]) -> None:
    """Remove the files of a ticket or reply undone before its transaction ended."""
    for file in files:
        _remove(stored_path(directory, file.stored_name))


def discard_pending(session: Session) -> None:
    for path in session.info.pop(_PENDING_FILES, []):
        _remove(path)


def _pending(session: Session) -> list[Path]:
    return session.info.setdefault(_PENDING_FILES, [])


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session: Session) -> None:
    # Releasing a savepoint fires after_commit too; only the outermost commit makes files stay.
    if not session.in_nested_transaction():
        session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        discard_pending(session)
