"""``envmon up``: the whole pipeline on one machine, without Docker."""

from __future__ import annotations

import io
import sys

import typer
from rich.console import Console

from pipeline.commands.common import fail, stop_on_sigterm
from pipeline.commands.config import settings_of


def up(
    ctx: typer.Context,
    stations: int = typer.Option(20, min=0, help="Synthetic air micro-stations to simulate."),
    backfill: str = typer.Option("6h", help="History to simulate at once first, e.g. 6h, 2d, 0."),
    seed: int = typer.Option(0, min=0, help="Simulator seed."),
    influx: bool = typer.Option(
        True, "--influx/--no-influx", help="Start a local InfluxDB if installed."
    ),
) -> None:
    """Start the whole pipeline on this machine: broker (bundled Tansu unless
    ENVMON_KAFKA_BOOTSTRAP is set), InfluxDB, topics, worker, sink, archive, notifier,
    HJ 212 gateway and simulator; print where each listens. Ctrl-C stops everything."""
    from pipeline.kafka.admin import AdminError
    from pipeline.stack.servers import ServerError
    from pipeline.stack.up import Stack, StackOptions, StackRunning

    settings = settings_of(ctx)
    stop_on_sigterm()
    if isinstance(sys.stdout, io.TextIOWrapper):  # piped to a log: each line as it comes
        sys.stdout.reconfigure(line_buffering=True)
    console = Console()
    stack = Stack(settings, StackOptions(stations, backfill, seed, influx), console)
    try:
        stack.start()
        stack.wait()
    except StackRunning as exc:
        raise fail(str(exc), code=1) from None
    except (ServerError, AdminError) as exc:
        console.print(f"[red]error: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopping …")
    finally:
        stack.stop()
    console.print("stopped; no process left behind")
