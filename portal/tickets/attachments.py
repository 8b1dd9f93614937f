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
# How much of a file its type is read from.
HEAD_BYTES = 8192
_PENDING_FILES = "portal.pending_attachment_files"
# Control characters, what Windows cannot name a file with, and the bidi controls (embeddings,
# overrides, isolates, marks) that make "invoice\u202efdp.exe" display as "invoiceexe.pdf".
_UNSAFE_CHARACTERS = re.compile(
    r"[\x00-\x1f\x7f<>:\"|?*"
    r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

# Never accepted, whatever the name or the configuration: what a browser would run as a page,
# scripts and programs. Markup may follow a byte-order mark, white space, an XML declaration
# and comments; scripts and programs are known by their first bytes.
_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")
_SCRIPT_STARTS = (b"<script", b"<?php")
_PROGRAM_SIGNATURES = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, 32 and 64 bits, both byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)
# filetype's kinds known by two or three letters ("BM", "ID3", "MZ", "FWS"), which start text
# too; real files of these kinds have control characters in their headers.
_SHORT_SIGNATURE_KINDS = frozenset({"bmp", "mp3", "exe", "swf"})
# Extensions of plain text: their bytes must not show another kind.
_TEXT_EXTENSIONS = frozenset({"txt", "text", "log", "csv", "md"})
# Other names filetype's kinds go by.
_EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "tiff": "tif"}
# C0 controls that no text file has (tab, line breaks, form feed, DOS's end-of-file mark and
# escape are kept).
_BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0e-\x19\x1c-\x1f]")


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


class FileRefused(Exception):
    """The bytes of a file are of a kind it may not be; the message names the file."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        # Checked here too, for streams that could not be looked at before (content_refusal).
        if problem := content_refusal(name, head):
            raise FileRefused(problem)
    except BaseException:
        _remove(path)
        raise
    return StoredFile(name, stored_name, size, detect_content_type(head), digest.hexdigest())


def peek(stream: IO[bytes]) -> bytes | None:
    """The first HEAD_BYTES from where a seekable stream is, leaving it there; else None."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        head = stream.read(HEAD_BYTES)
        stream.seek(position)
    except (AttributeError, OSError):
        return None
    return head


def content_refusal(name: str, head: bytes) -> str | None:
    """Why a file of this (safe, allowed) name may not be attached with these first bytes.

    Its type is shown and served from its bytes, so they decide: a page, a script or a program
    is refused whatever the name, and a file whose bytes are not what its extension says (text
    named .png) is refused, rather than stored as another kind than it claims to be.
    """
    kind = never_accepted_kind(head)
    if kind is not None:
        return f"The file {name} is not allowed: its contents are {kind}, which is never accepted"
    extension = name.rpartition(".")[2].lower()
    if not _bytes_match(extension, head):
        return f"The file {name} is not allowed: its contents are not those of a .{extension} file"
    return None


def never_accepted_kind(head: bytes) -> str | None:
    """Which kind that is never accepted the bytes are ("HTML", "a script", "a program")."""
    if head.startswith(b"#!"):
        return "a script"
    # "MZ" starts text too; a DOS or Windows program has NULs in its header.
    if head.startswith(_PROGRAM_SIGNATURES) or (
        head.startswith(b"MZ") and _has_binary_controls(head)
    ):
        return "a program"
    start = _markup_start(head)
    if start.startswith(_SCRIPT_STARTS):
        return "a script"
    if start.startswith(_PAGE_STARTS):
        return "HTML"
    return None


def _markup_start(head: bytes) -> bytes:
    """The first tag's opening, lower-cased, past a BOM, white space, `<?xml ?>` and comments."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    while True:
        if text.startswith(b"<!--"):
            end, length = text.find(b"-->"), 3
        elif text[:5].lower() == b"<?xml":
            end, length = text.find(b"?>"), 2
        else:
            return text[:16].lower()
        if end < 0:
            return b""
        text = text[end + length :].lstrip()


def _bytes_match(extension: str, head: bytes) -> bool:
    """Whether the bytes can be what the extension names; an extension whose kind the bytes
    cannot show (one an operator added, say) takes any bytes."""
    if extension in _TEXT_EXTENSIONS:
        return _kind(head) is None
    name = _EXTENSION_ALIASES.get(extension, extension)
    kinds = [kind for kind in filetype.types if kind.extension == name]
    return not kinds or any(_shows(kind, head) for kind in kinds)


def detect_content_type(head: bytes) -> str:
    """The type the bytes show; the name and the uploader's claim are never trusted."""
    kind = _kind(head)
    if kind is not None:
        return kind.mime
    return "text/plain" if _is_text(head) else "application/octet-stream"


def _kind(head: bytes):
    """filetype's kind of the bytes, the first in its order, or None."""
    return next((kind for kind in filetype.types if _shows(kind, head)), None) if head else None


def _shows(kind, head: bytes) -> bool:
    """Whether the bytes are of filetype's kind; text, in any encoding, that starts as a short
    signature does is text."""
    if not kind.match(head):
        return False
    return kind.extension not in _SHORT_SIGNATURE_KINDS or _has_binary_controls(head)


def _has_binary_controls(head: bytes) -> bool:
    return _BINARY_CONTROLS.search(head) is not None


def _is_text(head: bytes) -> bool:
    """UTF-8 without the control characters only binary files have."""
    if _has_binary_controls(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 3:
            return False
    return True


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
