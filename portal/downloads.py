"""Sending a stored attachment, the one way both doors do it: never inline, sniffed or cached."""

from pathlib import Path

from flask import Response, current_app, send_file

from portal.models import Attachment
from portal.tickets.attachments import stored_path


def attachment_download(attachment: Attachment) -> Response | None:
    """The attachment as a download, or None when its file is missing."""
    path = stored_path(Path(current_app.config["ATTACHMENTS_DIR"]), attachment.stored_name)
    if not path.is_file():
        return None
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    # The type comes from the bytes, but a browser must still never render an upload.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
