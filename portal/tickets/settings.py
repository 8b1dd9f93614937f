"""The configuration the ticket core needs, read from the app's config mapping."""

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
        if isinstance(extensions, str):
            extensions = extensions.replace(";", ",").split(",")
        return cls(
            mask=config["TICKET_MASK"],
            allowed_extensions=frozenset(
                "." + ext.strip().lower().lstrip(".") for ext in extensions if ext.strip()
            ),
            max_attachment_bytes=int(config["ATTACHMENT_MAX_BYTES"]),
            timezone=ZoneInfo(config["TIMEZONE"]),
            attachments_dir=Path(config["ATTACHMENTS_DIR"]),
        )
