"""``envmon topics``: create, list and delete the topics of a namespace."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pipeline.commands.common import fail
from pipeline.commands.config import settings_of
from pipeline.settings import Settings, SettingsError, with_overrides

app = typer.Typer(help="Create, list and delete the topics of a namespace.", no_args_is_help=True)

T = TypeVar("T")
NAMESPACE = typer.Option(
    None, "--namespace", "-n", help="Topic namespace (default: ENVMON_NAMESPACE)."
)
TIMEOUT = typer.Option(10.0, "--timeout", min=0.1, help="Seconds to wait for the broker.")


def _settings(ctx: typer.Context, **overrides: object) -> Settings:
    """The settings with command-line overrides, validated like the rest."""
    try:
        return with_overrides(settings_of(ctx), **overrides)
    except SettingsError as exc:
        raise fail(str(exc)) from None


def _run(operation: Callable[..., T], settings: Settings, timeout: float) -> T:
    from pipeline.kafka.admin import AdminError

    try:
        return operation(settings, settings.namespace, timeout=timeout)
    except AdminError as exc:
        raise fail(str(exc)) from None


@app.command("create")
def create(
    ctx: typer.Context,
    namespace: str | None = NAMESPACE,
    partitions: int | None = typer.Option(
        None, "--partitions", min=1, help="Partitions per topic (default: ENVMON_PARTITIONS)."
    ),
    timeout: float = TIMEOUT,
) -> None:
    """Create the namespace's topics; existing ones are left as they are."""
    from pipeline.kafka.admin import ensure_topics

    settings = _settings(ctx, namespace=namespace, partitions=partitions)
    report = _run(ensure_topics, settings, timeout)
    table = Table(title=f"topics of {settings.namespace!r} at {settings.kafka_bootstrap}")
    table.add_column("topic")
    table.add_column("status")
    for name in report.created:
        table.add_row(name, f"created ({settings.partitions} partitions)")
    for name in report.existing:
        table.add_row(name, "exists")
    Console().print(table)


@app.command("list")
def list_(ctx: typer.Context, namespace: str | None = NAMESPACE, timeout: float = TIMEOUT) -> None:
    """Show the namespace's topics with partitions, retention and clean-up policy."""
    from pipeline.kafka.admin import list_topics

    settings = _settings(ctx, namespace=namespace)
    infos = _run(list_topics, settings, timeout)
    table = Table(title=f"topics of {settings.namespace!r} at {settings.kafka_bootstrap}")
    for column in ("topic", "role", "partitions", "retention.ms", "cleanup.policy"):
        table.add_column(column)
    for info in infos:
        table.add_row(
            info.name,
            info.role.value,
            str(info.partitions) if info.exists else "missing",
            info.configs.get("retention.ms", ""),
            info.configs.get("cleanup.policy", ""),
        )
    Console().print(table)


@app.command("delete")
def delete(
    ctx: typer.Context,
    namespace: str | None = NAMESPACE,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    timeout: float = TIMEOUT,
) -> None:
    """Delete the namespace's topics and everything in them."""
    from pipeline.kafka.admin import delete_topics

    settings = _settings(ctx, namespace=namespace)
    if not yes:
        typer.confirm(
            f"Delete every topic of {settings.namespace!r} at {settings.kafka_bootstrap}?",
            abort=True,
        )
    deleted = _run(delete_topics, settings, timeout)
    typer.echo(f"deleted {len(deleted)} topic(s): {', '.join(deleted) or 'none existed'}")
