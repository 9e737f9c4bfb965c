"""``envmon config``: show the effective settings (secrets masked) and where each comes from."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pipeline.settings import Settings, SettingsError, env_name, load_settings

app = typer.Typer(help="Inspect settings.", no_args_is_help=True)


class SettingsHolder:
    """Reads the settings once, on first use, so commands that need none never fail on them."""

    def __init__(self, config_file: Path | None) -> None:
        self.config_file = config_file
        self._settings: Settings | None = None

    def get(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_file)
            except SettingsError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
        return self._settings


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj.get()


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Print every setting with its variable name; secrets are masked."""
    for name, value in settings_of(ctx).masked().items():
        shown = "" if value is None else value
        typer.echo(f"{env_name(name):32} {json.dumps(str(shown), ensure_ascii=False)}")
