"""``envmon alerts silence|silences|ack``: mute matching alerts for a while; acknowledge one."""

from __future__ import annotations

import getpass
import time
import uuid

import typer
from rich.console import Console
from rich.table import Table

from pipeline.commands.common import fail
from pipeline.commands.config import settings_of
from pipeline.messages.notify import SILENCE_LABELS, AlertAck, Silence
from pipeline.notify.config import outbox_path
from pipeline.notify.outbox import Outbox
from pipeline.settings import Settings
from pipeline.timeutil import label, parse_when

app = typer.Typer(help="Silence and acknowledge alerts.", no_args_is_help=True)


def parse_matchers(items: list[str]) -> dict[str, str]:
    """``k=v`` items to matchers; a typer error naming ``--match`` for a bad one."""
    matchers: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise typer.BadParameter(f"{item!r} is not LABEL=VALUE", param_hint="--match")
        if key not in SILENCE_LABELS:
            raise typer.BadParameter(
                f"unknown label {key!r} (one of {', '.join(SILENCE_LABELS)})", param_hint="--match"
            )
        matchers[key] = value
    return matchers


def _user() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"


@app.command("silence")
def silence(
    ctx: typer.Context,
    match: list[str] = typer.Option(..., help="LABEL=VALUE, repeatable; all must match."),
    until: str = typer.Option(..., help="End: now+2h, +30m, RFC 3339, a local date-time."),
    reason: str = typer.Option(..., help="Why (shown in `envmon alerts silences`)."),
    start: str = typer.Option("now", "--from", help="Start (default now)."),
    by: str = typer.Option(None, help="Who sets it (default the login name)."),
) -> None:
    """Mute alerts whose labels match, from --from until --until (it expires by itself)."""
    from pipeline.notify.bus import publish_silence

    settings = settings_of(ctx)
    matchers = parse_matchers(match)
    now_ms = int(time.time() * 1000)
    try:
        starts = parse_when(start, now_ms, settings.tz)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from") from None
    try:
        ends = parse_when(until.replace("now+", "+"), now_ms, settings.tz)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--until") from None
    if ends <= max(starts, now_ms):
        raise typer.BadParameter("must be later than --from and than now", param_hint="--until")
    if not reason.strip():
        raise typer.BadParameter("say why", param_hint="--reason")
    record = Silence(
        id=uuid.uuid4().hex[:12],
        matchers=matchers,
        starts_ms=starts,
        ends_ms=ends,
        reason=reason.strip(),
        created_by=by or _user(),
        created_ms=now_ms,
    )
    _publish(settings, lambda: publish_silence(settings, record))
    typer.echo(
        f"silence {record.id}: {_matchers(record)} from {label(starts, settings.tz)} "
        f"until {label(ends, settings.tz)}"
    )


def _matchers(s: Silence) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(s.matchers.items()))


@app.command("silences")
def silences(
    ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Include expired ones.")
) -> None:
    """List the silences of the namespace (active and upcoming; --all: expired too)."""
    from pipeline.notify.bus import read_silences

    settings = settings_of(ctx)
    now_ms = int(time.time() * 1000)
    try:
        found = read_silences(settings)
    except Exception as exc:  # kafka-python raises many kinds; the broker is the problem
        raise fail(f"Kafka at {settings.kafka_bootstrap}: {exc}", 1) from None
    table = Table(title=f"silences of {settings.namespace}")
    for column in ("id", "matchers", "from", "until", "status", "reason", "by"):
        table.add_column(column)
    for s in found:
        state = "active" if s.active(now_ms) else "expired" if s.ends_ms <= now_ms else "upcoming"
        if state == "expired" and not all_:
            continue
        tz = settings.tz
        table.add_row(
            s.id,
            _matchers(s),
            label(s.starts_ms, tz),
            label(s.ends_ms, tz),
            state,
            s.reason,
            s.created_by,
        )
    Console().print(table)


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="The alert id (in every notification)."),
    by: str = typer.Option(..., help="Who takes the alert on."),
    note: str = typer.Option("", help="A note for the others."),
) -> None:
    """Acknowledge an alert: repeat reminders stop; Grafana shows who and when."""
    from pipeline.notify.bus import publish_ack

    settings = settings_of(ctx)
    if not by.strip():
        raise typer.BadParameter("must name someone", param_hint="--by")
    rule = severity = None
    path = outbox_path(settings)
    if path.exists():  # this machine runs the notifier: name the rule and severity too
        outbox = Outbox(path)
        try:
            event = outbox.alert(alert_id).event
        finally:
            outbox.close()
        if event is not None:
            rule, severity = event.rule, event.severity
    record = AlertAck(
        alert_id=alert_id,
        by=by.strip(),
        note=note,
        ack_ms=int(time.time() * 1000),
        source="cli",
        rule=rule,
        severity=severity,
    )
    _publish(settings, lambda: publish_ack(settings, record))
    typer.echo(f"acknowledged {alert_id} as {record.by}")


def _publish(settings: Settings, send: object) -> None:
    from pipeline.kafka.producer import ProducerError

    try:
        send()  # type: ignore[operator]
    except ProducerError as exc:
        raise fail(str(exc), 1) from None
