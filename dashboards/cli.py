"""``envmon dashboards build|provision|export|sites``: Grafana dashboards as code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dashboards.text import LANGUAGES, Language
from pipeline.commands.common import fail, load_registry
from pipeline.commands.config import settings_of
from pipeline.settings import Settings

if TYPE_CHECKING:
    from dashboards.context import Context

app = typer.Typer(help="Grafana dashboards: build, provision, export.", no_args_is_help=True)


def _context(settings: Settings, language: str | None) -> Context:
    from dashboards.context import Context

    if language is not None and language not in LANGUAGES:
        raise fail(f"--language: {language!r} is not one of {', '.join(LANGUAGES)}")
    chosen: Language = language or settings.dashboard_language  # type: ignore[assignment]
    return Context.of(chosen, load_registry(settings))


@app.command("build")
def build(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, help="Directory of the <uid>.json files (default: dashboards/json in the package)."
    ),
    language: str | None = typer.Option(
        None, help="zh or en (default: ENVMON_DASHBOARD_LANGUAGE)."
    ),
) -> None:
    """Regenerate the dashboard JSON from the code (the committed files are zh, Shenzhen)."""
    from dashboards.build import JSON_DIR, render, write

    settings = settings_of(ctx)
    out = out or JSON_DIR
    written = write(render(_context(settings, language)), out)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(written)} changed, in {out}")


@app.command("provision")
def provision(
    ctx: typer.Context,
    url: str | None = typer.Option(None, help="Grafana URL (default: ENVMON_GRAFANA_URL)."),
    token: str | None = typer.Option(
        None, help="Service-account token (default: ENVMON_GRAFANA_TOKEN)."
    ),
    force: bool = typer.Option(False, help="Send everything, e.g. a new InfluxDB token."),
) -> None:
    """Create or update the InfluxDB data source, the folder and the dashboards through the
    HTTP API; what is already as envmon would send it is left alone."""
    from dashboards.build import render
    from dashboards.grafana import Provisioner, ProvisionError, connect

    settings = settings_of(ctx)
    url = url or settings.grafana_url
    if not url.startswith(("http://", "https://")):
        raise fail(f"--url: {url!r} is not an http(s) URL")
    secret = token or (
        settings.grafana_token.get_secret_value() if settings.grafana_token else None
    )
    dashboards = render(_context(settings, None))
    try:
        for step in Provisioner(connect(url, secret)).run(settings, dashboards, force):
            typer.echo(str(step))
    except ProvisionError as exc:
        raise fail(f"Grafana at {url}: {exc}", code=1) from None


@app.command("export")
def export_dashboard(
    ctx: typer.Context,
    uid: str = typer.Argument(..., help="Dashboard UID, e.g. envmon-overview."),
    url: str | None = typer.Option(None, help="Grafana URL (default: ENVMON_GRAFANA_URL)."),
    token: str | None = typer.Option(
        None, help="Service-account token (default: ENVMON_GRAFANA_TOKEN)."
    ),
    out: Path | None = typer.Option(None, help="Write to this file instead of stdout."),
) -> None:
    """Pull a dashboard as Grafana stores it (e.g. after edits in the UI), to compare with the
    generated JSON and carry the changes into the code."""
    from dashboards.build import to_text
    from dashboards.grafana import ProvisionError, connect, export

    settings = settings_of(ctx)
    url = url or settings.grafana_url
    secret = token or (
        settings.grafana_token.get_secret_value() if settings.grafana_token else None
    )
    try:
        dashboard = export(connect(url, secret), uid)
    except ProvisionError as exc:
        raise fail(f"Grafana at {url}: {exc}", code=1) from None
    if out is None:
        typer.echo(json.dumps(dashboard, ensure_ascii=False, indent=2))
    else:
        out.write_text(to_text(dashboard), "utf-8")
        typer.echo(f"wrote {out}")


@app.command("sites")
def sites(ctx: typer.Context) -> None:
    """Write the registry's station and section coordinates to InfluxDB (measurement ``site``)
    for the map panels; safe to repeat."""
    from dashboards.sites import write_sites
    from pipeline.sinks.influx import InfluxUnavailable, PointsRejected

    settings = settings_of(ctx)
    try:
        count = write_sites(settings, load_registry(settings))
    except (InfluxUnavailable, PointsRejected) as exc:
        raise fail(f"InfluxDB at {settings.influx_url}: {exc}", code=1) from None
    typer.echo(f"site: {count} points written")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dashboards")
