"""``envmon simulate``: realistic readings into the broker — real time, accelerated or backfill —
and ``envmon simulate hj212``: data loggers speaking HJ 212-2017 to a gateway.

``simulate`` is a group whose first word picks the subcommand: ``air``, ``water``, ``all`` (the
readings simulator; the default, so ``envmon simulate --seed 3`` still works) or ``hj212``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
import typer
from typer.core import TyperGroup

from pipeline.commands.common import (
    fail,
    load_registry,
    parse_speed,
    progress_bar,
    run_until_signalled,
    stop_on_sigterm,
)
from pipeline.commands.config import settings_of
from pipeline.commands.hj212 import load_devices
from pipeline.registry import Registry
from pipeline.timeutil import parse_when
from pipeline.topics import Topics

if TYPE_CHECKING:
    from pipeline.sources.publish import Publisher
    from pipeline.sources.simulator import Simulator

FUTURE_TOLERANCE_MS = 10 * 60_000  # readings further ahead of the clock are rejected downstream
PACED_CHUNK_S = 60


KINDS = ("air", "water", "all")


class _KindFirst(TyperGroup):
    """Without a subcommand name first, ``all`` is meant: ``envmon simulate [options]``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["all", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_KindFirst,
    help="Simulated stations: readings straight into the broker (air, water, all — the "
    "default), or HJ 212 data loggers talking to a gateway (hj212).",
)


def simulate(
    ctx: typer.Context,
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
    from pipeline.kafka.producer import ProducerError, open_producer
    from pipeline.sources.publish import Publisher
    from pipeline.sources.simulator import FaultConfig, SimPlan, Simulator, kinds_of

    settings = settings_of(ctx)
    kind = ctx.info_name or "all"
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
        kinds=kinds_of(kind),
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


for _kind in KINDS:
    app.command(_kind, help=f"Readings of {_kind} stations. {simulate.__doc__}")(simulate)


@app.command("hj212")
def hj212(
    ctx: typer.Context,
    connect: str = typer.Option(..., help="The gateway, HOST:PORT."),
    stations: int = typer.Option(0, min=0, help="The first N devices of the device map; 0 all."),
    interval: float = typer.Option(30.0, min=0.01, help="Real-time data every S seconds."),
    count: int = typer.Option(0, min=0, help="Real-time frames per device, then stop; 0 never."),
    hourly: bool = typer.Option(True, help="Hourly data (2061) at each new clock hour."),
    split: int = typer.Option(0, min=0, help="Hourly records in parts of N factor codes."),
    timeout: float = typer.Option(10.0, min=0.01, help="Seconds to wait for an answer."),
    retries: int = typer.Option(3, min=0, help="Resends without an answer (HJ 212: 3)."),
    flag_rate: float = typer.Option(0.05, min=0, max=1, help="Share of values not flagged N."),
    drop_ack_rate: float = typer.Option(0.0, min=0, max=1, help="Share of answers ignored."),
    bad_crc_rate: float = typer.Option(0.0, min=0, max=1, help="Share of frames with a bad CRC."),
    seed: int = typer.Option(0, min=0, help="Same seed, same values."),
) -> None:
    """HJ 212-2017 data loggers for the devices of the device map (ENVMON_HJ212_DEVICES_FILE):
    real-time data, hourly records, split packets, resends when no answer arrives."""
    from pipeline.hj212.device import Fleet, SimConfig, SimulatedDevice, ValueSource

    host, sep, port_text = connect.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise fail(f"--connect: {connect!r} is not HOST:PORT")
    settings = settings_of(ctx)
    devices = list(load_devices(settings).devices.values())
    devices = devices[:stations] if stations else devices
    config = SimConfig(
        interval_s=interval,
        hourly=hourly,
        split_codes=split,
        timeout_s=timeout,
        retries=retries,
        flag_rate=flag_rate,
        drop_ack_rate=drop_ack_rate,
        bad_crc_rate=bad_crc_rate,
        count=count,
        seed=seed,
    )
    values = ValueSource(load_registry(settings), (d.station for d in devices), seed)
    fleet = Fleet([SimulatedDevice(d, values, config, i) for i, d in enumerate(devices)])
    typer.echo(f"{len(devices)} HJ 212 devices -> {host}:{port_text}", err=True)
    try:
        run_until_signalled(lambda stop: fleet.run(host, int(port_text), stop))
    except OSError as exc:
        raise fail(f"--connect {connect}: {exc.strerror or exc}", 1) from None
    t = fleet.totals()
    typer.echo(
        f"sent {t.frames:,} frames ({t.sends:,} sends): {t.acked:,} answered, "
        f"{t.unanswered:,} unanswered, {t.dropped_acks:,} answers dropped, "
        f"{t.bad_crcs:,} bad CRCs on purpose",
        err=True,
    )


def _speed(text: str, t1: int | None) -> float | None:
    """The pace factor, or None for as fast as possible."""
    if text == "max" and t1 is None:
        raise fail("--speed max needs --to (a backfill has an end)")
    return parse_speed(text)


def _registry(
    base: Registry, stations: int, sections: int, seed: int, out: Path | None, state_dir: Path
) -> Registry:
    if not stations and not sections:
        return base
    from pipeline.sources.simulator.stations import synthetic_registry, to_yaml

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
