"""``envmon stations``: list the registry's stations."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pipeline.commands.config import settings_of
from pipeline.registry import Registry, RegistryError

app = typer.Typer(help="The station registry.", no_args_is_help=True)


@app.command("list")
def list_stations(ctx: typer.Context) -> None:
    """Print districts' air stations and river sections from the registry."""
    try:
        registry = Registry.load(settings_of(ctx).registry_file)
    except RegistryError as exc:
        typer.echo(f"error: ENVMON_REGISTRY_FILE: {exc}", err=True)
        raise typer.Exit(2) from None
    table = Table(title=f"{registry.city.name_zh} {registry.city.name_en} — {registry.source}")
    for column in ("id", "kind", "name", "district", "river", "target"):
        table.add_column(column)
    for s in registry.stations.values():
        district = registry.districts[s.district]
        table.add_row(
            s.id,
            s.kind.value,
            f"{s.name_zh} {s.name_en}",
            district.name_zh,
            s.river or "",
            s.target or "",
        )
    Console().print(table)
