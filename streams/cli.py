"""``envmon worker``: runs the stream agents (a Faust worker) for one namespace."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from pipeline.commands.common import fail
from pipeline.commands.config import settings_of
from pipeline.settings import Settings, SettingsError, with_overrides


def worker(
    ctx: typer.Context,
    namespace: str | None = typer.Option(None, help="Topic namespace (default: ENVMON_NAMESPACE)."),
    rules: Path | None = typer.Option(
        None, help="Alert rules YAML (default: ENVMON_ALERT_RULES_FILE)."
    ),
    web_port: int | None = typer.Option(
        None, help="Health/metrics port (default: ENVMON_WORKER_WEB_PORT)."
    ),
    loglevel: str = typer.Option("info", help="Log level: info or warning."),
) -> None:
    """Run the stream agents; several workers of one namespace share its partitions."""
    from faust import Worker

    from streams.app import create_app

    try:
        settings = with_overrides(
            settings_of(ctx), namespace=namespace, alert_rules_file=rules, worker_web_port=web_port
        )
    except SettingsError as exc:
        raise fail(str(exc)) from None
    if mismatch := _partition_mismatch(settings):
        raise fail(mismatch)
    app = create_app(settings)
    Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)
    logging.getLogger("faust").setLevel(loglevel.upper())
    Worker(app, loglevel=loglevel).execute_from_commandline()


def _partition_mismatch(settings: Settings) -> str | None:
    """Why the readings topics don't fit ``ENVMON_PARTITIONS``, or None. The agents' tables are
    co-partitioned with their input, and hours close once every readings partition's clock is
    in, so the count must be the topics' own. Missing topics or an unreachable broker are left
    to the worker, which waits for them."""
    from kafka.errors import KafkaError

    from pipeline.kafka.admin import list_topics
    from pipeline.topics import Topics

    readings = {Topics(settings.namespace).air_readings, Topics(settings.namespace).water_readings}
    try:
        found = [t for t in list_topics(settings, settings.namespace) if t.name in readings]
    except KafkaError:
        return None
    for topic in found:
        if topic.exists and topic.partitions != settings.partitions:
            return (
                f"ENVMON_PARTITIONS={settings.partitions}, but {topic.name} has "
                f"{topic.partitions} partitions; set ENVMON_PARTITIONS={topic.partitions}"
            )
    return None


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
