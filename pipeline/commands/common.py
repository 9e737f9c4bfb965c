"""Small pieces shared by commands: errors as exit codes, the registry, progress bars."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from pipeline.registry import Registry, RegistryError
from pipeline.settings import Settings


def stop_on_sigterm() -> None:
    """Treat SIGTERM (``docker stop``, a supervisor) like Ctrl-C: commands flush and exit."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def run_until_signalled(service: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run a service, ``service(stop)``, in a new event loop until SIGINT or SIGTERM sets
    ``stop``; the service then finishes what it holds and returns."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service(stop)

    asyncio.run(main())


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def parse_speed(text: str) -> float | None:
    """``--speed``: a positive pace factor (1 real time, 60 sixty times faster), or None for
    ``max`` (no pacing)."""
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise fail(f"--speed: {text!r} is not a number or 'max'") from None
    if value <= 0:
        raise fail("--speed must be positive")
    return value


def load_registry(settings: Settings) -> Registry:
    try:
        return Registry.load(settings.registry_file)
    except RegistryError as exc:
        raise fail(f"ENVMON_REGISTRY_FILE: {exc}") from None


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``12,345 readings/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="cyan")


def progress_bar(unit: str) -> Progress:
    """A progress bar on stderr with count, rate and ETA; use as a context manager."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
