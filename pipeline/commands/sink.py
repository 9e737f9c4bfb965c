"""``envmon sink`` (Kafka -> InfluxDB) and ``envmon influx init`` (database/buckets, retention)."""

from __future__ import annotations

import logging

import typer

from pipeline.commands.common import run_until_signalled
from pipeline.commands.config import settings_of
from pipeline.sinks.config import RetryPolicy, SinkConfig
from pipeline.sinks.runs import replay_influx

influx_app = typer.Typer(help="InfluxDB layout.", no_args_is_help=True)
_DEFAULTS = SinkConfig()


def sink(
    ctx: typer.Context,
    batch_points: int = typer.Option(_DEFAULTS.batch_points, min=1, help="Points per write."),
    linger: float = typer.Option(_DEFAULTS.linger_s, min=0, help="Max age of a batch, s."),
    write_timeout: float = typer.Option(_DEFAULTS.write_timeout_s, min=0.1, help="Per request, s."),
    attempts: int = typer.Option(
        _DEFAULTS.retry.attempts, min=1, help="Tries per request before pausing consumption."
    ),
    backoff_max: float = typer.Option(_DEFAULTS.retry.backoff_max, min=0, help="Max backoff, s."),
    gzip: bool = typer.Option(_DEFAULTS.gzip, help="Compress write requests."),
    session_timeout_ms: int = typer.Option(_DEFAULTS.session_timeout_ms, min=1000),
    report_interval: float = typer.Option(
        _DEFAULTS.report_interval_s, min=0.1, help="Seconds between `pipeline` points."
    ),
    health_host: str = typer.Option(_DEFAULTS.health_host),
    health_port: int = typer.Option(8787, min=-1, help="Health endpoint port; 0 any, -1 none."),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Write a namespace's readings, results and dead letters to InfluxDB (group
    envmon-sink-{ns}; offsets committed after InfluxDB acknowledged)."""
    from aiokafka.errors import KafkaError

    from pipeline.sinks.runner import Sink

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the lag reader's admin client
    config = SinkConfig(
        batch_points=batch_points,
        linger_s=linger,
        write_timeout_s=write_timeout,
        gzip=gzip,
        retry=RetryPolicy(attempts=attempts, backoff_max=backoff_max),
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=min(_DEFAULTS.heartbeat_interval_ms, session_timeout_ms // 3),
        report_interval_s=report_interval,
        health_host=health_host,
        health_port=None if health_port < 0 else health_port,
    )
    settings = settings_of(ctx)
    try:
        run_until_signalled(Sink(settings, config).run)
    except KafkaError as exc:
        typer.echo(f"error: Kafka at {settings.kafka_bootstrap}: {exc}", err=True)
        raise typer.Exit(1) from None


@influx_app.command("init")
def init(
    ctx: typer.Context,
    raw_retention: str = typer.Option("30d", help="Keep raw readings this long (30d, 12w, inf)."),
    results_retention: str = typer.Option("inf", help="Keep results this long."),
) -> None:
    """Create the database (1.x) or buckets (2.x) with their retention, for live and replay
    namespaces; safe to repeat."""
    from pipeline.sinks.init import InitError, Retention, init_influx, parse_retention

    try:
        retention = Retention(parse_retention(raw_retention), parse_retention(results_retention))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = settings_of(ctx)
    try:  # the live layout, and the same for replay namespaces (pipeline/sinks/runs.py)
        report = init_influx(settings, retention) + init_influx(replay_influx(settings), retention)
    except InitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for line in report:
        typer.echo(line)
