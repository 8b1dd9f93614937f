"""`flask --app portal send-mail`: deliver due outbox messages once, or keep doing it (--loop)."""

import logging
import signal
import threading

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.mail.delivery import DeliveryReport, DeliverySettings, deliver_due

log = logging.getLogger(__name__)


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running and send messages as they fall due.")
@click.option(
    "--interval",
    type=float,
    default=None,
    help="Seconds between looks at the outbox when idle (MAIL_WORKER_INTERVAL).",
)
def send_mail_command(loop: bool, interval: float | None) -> None:
    """Send the outbox's due email; several workers may run side by side."""
    settings = DeliverySettings.from_config(current_app.config)
    if interval is None:
        interval = float(current_app.config.get("MAIL_WORKER_INTERVAL", 5))
    target = (
        f"SMTP {settings.server}:{settings.port}"
        if settings.server
        else f".eml files in {settings.eml_dir}"
    )
    if not loop:
        total = drain(settings)
        click.echo(
            f"Sent {total.sent}, to retry {total.retrying}, failed {total.failed} ({target})."
        )
        return
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    click.echo(f"Sending mail through {target}; stop with Ctrl+C or SIGTERM.")
    while not stop.is_set():
        try:
            report = drain(settings, stop)
        except SQLAlchemyError:
            log.exception("Database unavailable; trying again in %ss", interval)
        else:
            if report.claimed:
                click.echo(
                    f"Sent {report.sent}, to retry {report.retrying}, failed {report.failed}."
                )
        stop.wait(interval)


def drain(settings: DeliverySettings, stop: threading.Event | None = None) -> DeliveryReport:
    """Deliver batches until no due message is left (or the server is unreachable)."""
    total = DeliveryReport()
    while stop is None or not stop.is_set():
        report = deliver_due(db.engine, settings)
        for name in ("claimed", "sent", "retrying", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.unreachable = report.unreachable
        if report.unreachable or report.claimed < settings.batch_size:
            break
    return total
