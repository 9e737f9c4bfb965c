"""The ``envmon`` command line. Each command group lives in ``pipeline/commands/``.

Packages that depend on ``pipeline`` (``streams``, ``dashboards``) add their commands through the
``envmon.commands`` entry point group (see ``pyproject.toml``), so ``pipeline`` imports neither.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import typer

from pipeline.commands import (
    alerts,
    archive,
    calc,
    config,
    hj212,
    ingest,
    notify,
    replay,
    simulate,
    sink,
    stations,
    topics,
    up,
)

app = typer.Typer(
    name="envmon",
    help="envmon: air and water monitoring pipeline — AQI (HJ 633, US EPA), water class "
    "(GB 3838), rankings and alerts, from Kafka to InfluxDB and Grafana.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config_file: Path | None = typer.Option(
        None,
        "--config",
        envvar="ENVMON_CONFIG",
        help="TOML settings file (ENVMON_* variables win).",
    ),
) -> None:
    """Settings come from ENVMON_* variables and an optional TOML file."""
    ctx.obj = config.SettingsHolder(config_file)


app.add_typer(alerts.app, name="alerts")
app.command("archive")(archive.archive)
app.add_typer(calc.app, name="calc")
app.add_typer(config.app, name="config")
app.add_typer(sink.influx_app, name="influx")
app.add_typer(notify.app, name="notify")
app.add_typer(replay.app, name="replay")
app.add_typer(stations.app, name="stations")
app.add_typer(notify.subscriptions_app, name="subscriptions")
app.command("ingest")(ingest.ingest)
app.add_typer(simulate.app, name="simulate")
app.add_typer(hj212.gateway_app, name="gateway")
app.add_typer(hj212.hj212_app, name="hj212")
app.command("sink")(sink.sink)
app.command("up")(up.up)
app.add_typer(topics.app, name="topics")


for _plugin in entry_points(group="envmon.commands"):
    _plugin.load()(app)
