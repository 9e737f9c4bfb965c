"""``envmon worker``: runs the stream agents (a Faust worker) for one namespace."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from pipeline.commands.common import fail
from pipeline.commands.config import settings_of
from pipeline.settings import SettingsError, with_overrides


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
    app = create_app(settings)
    Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)
    logging.getLogger("faust").setLevel(loglevel.upper())
    Worker(app, loglevel=loglevel).execute_from_commandline()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
