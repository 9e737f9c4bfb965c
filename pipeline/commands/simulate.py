"""``envmon simulate``: realistic readings into the broker — real time, accelerated or backfill."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path

import typer

from pipeline.commands.common import fail, load_registry, progress_bar, stop_on_sigterm
from pipeline.commands.config import settings_of
from pipeline.kafka.producer import ProducerError, open_producer
from pipeline.registry import Registry
from pipeline.sources.publish import Publisher
from pipeline.sources.simulator import FaultConfig, SimPlan, Simulator, kinds_of
from pipeline.sources.simulator.stations import synthetic_registry, to_yaml
from pipeline.timeutil import parse_when
from pipeline.topics import Topics

FUTURE_TOLERANCE_MS = 10 * 60_000  # readings further ahead of the clock are rejected downstream
PACED_CHUNK_S = 60


class Kind(StrEnum):
    air = "air"
    water = "water"
    all = "all"


def simulate(
    ctx: typer.Context,
    kind: Kind = typer.Argument(Kind.all, help="air, water or all."),
    seed: int = typer.Option(0, min=0, help="Same seed, same readings."),
    stations: int = typer.Option(0, min=0, help="Add N synthetic air micro-stations (per minute)."),
    sections: int = typer.Option(0, min=0, help="Add N synthetic river sections."),
    start: str | None = typer.Option(None, "--from", help="Start: now, now-6h, RFC 3339, date."),
    end: str | None = typer.Option(None, "--to", help="End (exclusive); open-ended if omitted."),
    speed: str = typer.Option(
        "1", help="1 real time, 60 sixty times faster, max as fast as possible."
    ),
    faults: bool = typer.Option(
        True, "--faults/--no-faults", help="Inject faults at default rates."
    ),
    namespace: str | None = typer.Option(None, help="Topic namespace (default: ENVMON_NAMESPACE)."),
    backend: str | None = typer.Option(None, help="kafka-python or confluent (default: setting)."),
    registry_out: Path | None = typer.Option(
        None, help="Where to write the registry with synthetic stations."
    ),
) -> None:
    """Simulate stations: diurnal cycles, PM episodes, rain, river discharges, faults on purpose.

    With --speed max and --from/--to it backfills the period as fast as possible, sending each
    station's readings of an hour as one envelope; otherwise it paces by event time.
    """
    settings = settings_of(ctx)
    stop_on_sigterm()
    now_ms = int(time.time() * 1000)
    try:
        t0 = parse_when(start, now_ms, settings.tz) if start else now_ms // 60_000 * 60_000
        t1 = parse_when(end, now_ms, settings.tz) if end else None
    except ValueError as exc:
        raise fail(f"--from/--to: {exc}") from None
    factor = _speed(speed, t1)
    if t1 is not None and t1 <= t0:
        raise fail("--to must be after --from")
    if factor is not None and factor > 1 and (t1 is None or t1 > now_ms + FUTURE_TOLERANCE_MS):
        raise fail("--speed above 1 runs ahead of the clock: give --to at most now")
    registry = _registry(
        load_registry(settings), stations, sections, seed, registry_out, settings.state_dir
    )
    plan = SimPlan(
        seed=seed,
        registry=registry,
        kinds=kinds_of(kind.value),
        start_ms=t0,
        end_ms=t1,
        faults=FaultConfig() if faults else FaultConfig.disabled(),
    )
    try:
        with open_producer(settings, backend) as producer:
            publisher = Publisher(
                Topics(namespace or settings.namespace), producer.send, factor is None
            )
            _run(Simulator(plan), publisher, t0, t1, factor)
    except ProducerError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: what was accepted has been flushed", err=True)
    c = publisher.counts
    typer.echo(
        f"sent {c.readings:,} readings in {c.messages:,} messages "
        f"({c.malformed:,} malformed on purpose)",
        err=True,
    )


def _speed(text: str, t1: int | None) -> float | None:
    """The pace factor, or None for as fast as possible."""
    if text == "max":
        if t1 is None:
            raise fail("--speed max needs --to (a backfill has an end)")
        return None
    try:
        value = float(text)
    except ValueError:
        raise fail(f"--speed: {text!r} is not a number or 'max'") from None
    if value <= 0:
        raise fail("--speed must be positive")
    return value


def _registry(
    base: Registry, stations: int, sections: int, seed: int, out: Path | None, state_dir: Path
) -> Registry:
    if not stations and not sections:
        return base
    registry = synthetic_registry(base, stations, sections, seed=seed)
    path = out or state_dir / f"registry-sim-{stations}-{sections}-{seed}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(registry), "utf-8")
    typer.echo(
        f"registry with synthetic stations: {path} (set ENVMON_REGISTRY_FILE for the services)",
        err=True,
    )
    return registry


def _run(
    simulator: Simulator, publisher: Publisher, t0: int, t1: int | None, factor: float | None
) -> None:
    chunk_ms = (3600 if factor is None else PACED_CHUNK_S) * 1000
    wall0 = time.monotonic()
    expected = None
    if t1 is not None:  # readings the period should hold (faults make it differ slightly)
        expected = sum(
            len(g.stations) * (t1 - t0) // (g.interval_s * 1000) for g in simulator.groups
        )
    with progress_bar("readings") as progress:
        task = progress.add_task("simulate", total=expected)
        start = t0
        while t1 is None or start < t1:
            stop = (start // chunk_ms + 1) * chunk_ms
            stop = stop if t1 is None else min(stop, t1)
            if factor is not None:
                time.sleep(max(0.0, wall0 + (stop - t0) / 1000 / factor - time.monotonic()))
            before = publisher.counts.readings
            publisher.publish(simulator.chunk(start, stop))
            progress.advance(task, publisher.counts.readings - before)
            start = stop
        progress.update(task, total=publisher.counts.readings)  # faults made the estimate differ
