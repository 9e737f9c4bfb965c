"""``envmon notify`` (the notifier), ``envmon notify test NAME``, ``envmon notify status`` and
``envmon subscriptions check``."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pipeline.commands.common import fail, load_registry, run_until_signalled
from pipeline.commands.config import settings_of
from pipeline.messages.results import AlertEvent, AlertSubject
from pipeline.notify.config import NotifierConfig, outbox_path
from pipeline.notify.outbox import Outbox
from pipeline.notify.subscriptions import Subscriptions, SubscriptionsError, load_subscriptions
from pipeline.settings import Settings

app = typer.Typer(help="The alert notifier.")
subscriptions_app = typer.Typer(help="Alert subscriptions.", no_args_is_help=True)
_DEFAULTS = NotifierConfig()


def subscriptions_of(settings: Settings, path: Path | None = None) -> Subscriptions:
    """The validated subscriptions file; a clear error naming the setting or the entry."""
    path = path or settings.subscriptions_file
    if path is None:
        raise fail("ENVMON_SUBSCRIPTIONS_FILE is not set: the notifier needs a subscriptions file")
    try:
        return load_subscriptions(path)
    except SubscriptionsError as exc:
        raise fail(str(exc)) from None


@app.callback(invoke_without_command=True)
def notify(
    ctx: typer.Context,
    allow_replay: bool = typer.Option(
        False, help="Run on a replay-* namespace too (ENVMON_NOTIFIER_ALLOW_REPLAY)."
    ),
    web_port: int | None = typer.Option(
        None, help="Health/metrics/ack port (default ENVMON_NOTIFIER_WEB_PORT); 0 any, -1 none."
    ),
    web_host: str = typer.Option(_DEFAULTS.web_host, help="Address of the web endpoint."),
    tick: float = typer.Option(_DEFAULTS.tick_s, min=0.05, help="Seconds between dispatches."),
    session_timeout_ms: int = typer.Option(_DEFAULTS.session_timeout_ms, min=1000),
    report_interval: float = typer.Option(
        _DEFAULTS.report_interval_s, min=0.1, help="Seconds between `notifier` points."
    ),
    retention_days: float = typer.Option(
        _DEFAULTS.retention_days, min=1, help="Days finished deliveries stay in the outbox."
    ),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Deliver alert transitions of {ns}.alerts to subscribers (group envmon-notify-{ns})."""
    if ctx.invoked_subcommand is not None:
        return
    from aiokafka.errors import KafkaError

    from pipeline.notify.runner import Notifier

    settings = settings_of(ctx)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    if settings.namespace.startswith("replay-") and not (
        allow_replay or settings.notifier_allow_replay
    ):
        typer.echo(
            f"notifier off for replay namespace {settings.namespace} "
            "(--allow-replay or ENVMON_NOTIFIER_ALLOW_REPLAY=true to notify)",
            err=True,
        )
        return
    if settings.notifier_public_url and settings.ack_secret is None:
        raise fail(
            "ENVMON_ACK_SECRET is not set: acknowledge links (ENVMON_NOTIFIER_PUBLIC_URL) "
            "are signed with it"
        )
    subscriptions = subscriptions_of(settings)
    port = settings.notifier_web_port if web_port is None else web_port
    config = NotifierConfig(
        tick_s=tick,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=min(_DEFAULTS.heartbeat_interval_ms, session_timeout_ms // 3),
        report_interval_s=report_interval,
        web_host=web_host,
        web_port=None if port < 0 else port,
        retention_days=retention_days,
    )
    load_registry(settings)  # a bad registry file is a clear error here, not a traceback later
    try:
        run_until_signalled(Notifier(settings, subscriptions, config).run)
    except KafkaError as exc:
        raise fail(f"Kafka at {settings.kafka_bootstrap}: {exc}", 1) from None


def test_event(now_ms: int) -> AlertEvent:
    """A made-up alert for ``envmon notify test``: clearly labelled, never recorded."""
    return AlertEvent(
        alert_id=f"test-{uuid.uuid4().hex[:12]}",
        transition_id="test",
        rule="test",
        state="firing",
        severity="info",
        value=None,
        threshold=None,
        subject=AlertSubject(
            scope="city", id="test", name_zh="测试", name_en="test", district=None, river=None
        ),
        started_ms=now_ms,
        ended_ms=None,
        event_ms=now_ms,
        message_zh="envmon 通知测试，无需处理",
        message_en="envmon notification test, no action needed",
    )


@app.command("test")
def test(ctx: typer.Context, name: str = typer.Argument(..., help="Subscriber name.")) -> None:
    """Send a test message to subscriber NAME through its channel, now (not via the outbox)."""
    import aiohttp

    from pipeline.notify.channels import DeliveryError, open_channel
    from pipeline.notify.render import Item, Notification, Renderer
    from pipeline.notify.runner import link_settings

    settings = settings_of(ctx)
    subscriptions = subscriptions_of(settings)
    subscriber = subscriptions.get(name)
    if subscriber is None:
        known = ", ".join(s.name for s in subscriptions.subscribers)
        raise fail(f"NAME: no subscriber {name!r} in {subscriptions.source} (known: {known})")
    renderer = Renderer(load_registry(settings), link_settings(settings), settings.timezone)
    now_ms = int(time.time() * 1000)
    item = Item(test_event(now_ms), f"test-{uuid.uuid4().hex}")
    notification = Notification(item.delivery_key, subscriber, (item,), test=True)

    async def send() -> None:
        async with aiohttp.ClientSession() as session:
            channel = open_channel(subscriber, session)
            await channel.send(renderer.render(notification, now_ms), notification)

    try:
        asyncio.run(send())
    except DeliveryError as exc:
        raise fail(f"{name} ({subscriber.channel_type}): {exc}", 1) from None
    typer.echo(f"sent a test message to {name} ({subscriber.channel_type})")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Deliveries in the outbox by channel and state; notifications failed or being retried."""
    settings = settings_of(ctx)
    path = outbox_path(settings)
    if not path.exists():
        raise fail(f"no outbox at {path} (ENVMON_NOTIFIER_OUTBOX): has the notifier run here?")
    outbox = Outbox(path)
    try:
        counts, problems, held = outbox.counts(), outbox.problems(), outbox.held()
    finally:
        outbox.close()
    console = Console()
    states = ("pending", "sent", "failed", "suppressed")
    table = Table(title=f"deliveries in {path}")
    table.add_column("channel")
    for state in states:
        table.add_column(state, justify="right")
    for channel in sorted({c for c, _ in counts}):
        table.add_row(channel, *(str(counts.get((channel, s), 0)) for s in states))
    console.print(table)
    if held:
        table = Table(title="held back")
        for column in ("delivery", "subscriber", "reason"):
            table.add_column(column)
        for row in held:
            table.add_row(*row)
        console.print(table)
    if problems:
        table = Table(title="notifications failed or being retried")
        for column in ("key", "subscriber", "state", "attempts", "last error"):
            table.add_column(column)
        for key, subscriber, state, attempts, error in problems:
            table.add_row(key, subscriber, state, str(attempts), error or "")
        console.print(table)


@subscriptions_app.command("check")
def check(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, help="Default: ENVMON_SUBSCRIPTIONS_FILE."),
) -> None:
    """Validate a subscriptions file (and that the secrets it names are set)."""
    subscriptions = subscriptions_of(settings_of(ctx), file)
    for s in subscriptions.subscribers:
        typer.echo(f"ok  {s.name:24} {s.channel_type:9} {s.language}")
    typer.echo(
        f"{subscriptions.source}: {len(subscriptions.subscribers)} subscribers, "
        f"{len(subscriptions.inhibit_rules)} inhibition rules"
    )
