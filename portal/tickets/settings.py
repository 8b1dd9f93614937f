"""The configuration OpenTicket needs, read once from the app's config mapping."""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class TicketSettings:
    mask: str
    allowed_extensions: frozenset[str]
    max_attachment_bytes: int
    timezone: ZoneInfo
    attachments_dir: Path

    @classmethod
    def from_config(cls, config: Mapping) -> "TicketSettings":
        extensions = config["ATTACHMENT_EXTENSIONS"]
        return _settings(
            config["TICKET_MASK"],
            extensions if isinstance(extensions, str) else tuple(extensions),
            config["ATTACHMENT_MAX_BYTES"],
            config["TIMEZONE"],
            config["ATTACHMENTS_DIR"],
        )


# Every ticket a door opens asks for its settings; the same values make the same settings.
@functools.lru_cache(maxsize=16)
def _settings(mask, extensions, max_bytes, timezone, attachments_dir) -> TicketSettings:
    if isinstance(extensions, str):
        extensions = extensions.replace(";", ",").split(",")
    return TicketSettings(
        mask=mask,
        allowed_extensions=frozenset(
            "." + ext.strip().lower().lstrip(".") for ext in extensions if ext.strip()
        ),
        max_attachment_bytes=int(max_bytes),
        timezone=ZoneInfo(timezone),
        attachments_dir=Path(attachments_dir),
    )
