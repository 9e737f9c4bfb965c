"""``envmon replay``: history into a fresh namespace; ``replay diff``, ``list`` and ``drop``."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import ProgressColumn, Task
from rich.table import Table
from rich.text import Text

from pipeline.commands.common import (
    fail,
    load_registry,
    parse_speed,
    progress_bar,
    stop_on_sigterm,
)
from pipeline.commands.config import settings_of
from pipeline.replay.naming import REPLAY_PREFIX
from pipeline.settings import Settings, SettingsError, with_overrides
from pipeline.timeutil import label, parse_when

if TYPE_CHECKING:
    from pipeline.replay.checkpoint import ReplayArgs
    from pipeline.replay.source import ReplaySource

app = typer.Typer(
    help="Replay history into a fresh namespace (replay-<id>); compare, list and drop replays.",
    invoke_without_command=True,
)


class Source(StrEnum):
    kafka = "kafka"
    archive = "archive"


class ReadingsRate(ProgressColumn):
    """Readings sent per second (the bar itself counts minutes of event time)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        rate = task.fields.get("readings", 0) / elapsed if elapsed > 0 else 0
        return Text(f"{task.fields.get('readings', 0):,} readings {rate:,.0f}/s", style="cyan")


@app.callback()
def replay(
    ctx: typer.Context,
    source: Source = typer.Option(Source.kafka, help="kafka (by time range) or archive (files)."),
    start: str | None = typer.Option(None, "--from", help="Start of event time: RFC 3339, date…"),
    end: str | None = typer.Option(None, "--to", help="End of event time (exclusive)."),
    stations: str | None = typer.Option(None, help="Only these stations, comma-separated."),
    speed: str = typer.Option("max", help="1 real time, 60 sixty times faster, max: no pacing."),
    namespace: str | None = typer.Option(
        None, help="Target namespace replay-<id> (default: replay-<time now>)."
    ),
    source_namespace: str | None = typer.Option(
        None, "--source-namespace", help="Namespace replayed (default: ENVMON_NAMESPACE)."
    ),
    archive_dir: Path | None = typer.Option(
        None, "--archive-dir", help="Archive directory (default: ENVMON_ARCHIVE_DIR)."
    ),
    backend: str | None = typer.Option(None, help="kafka-python or confluent (default: setting)."),
) -> None:
    """Replay readings of --from..--to into a fresh namespace replay-<id>, in each station's order
    with their event times; run it again after an interruption to resume. Then run `envmon
    worker --namespace replay-<id> [--rules what-if.yaml]` and `envmon replay diff`."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.archive.files import ArchiveError
    from pipeline.kafka.admin import AdminError
    from pipeline.kafka.producer import ProducerError, open_producer
    from pipeline.replay.checkpoint import ReplayArgs
    from pipeline.replay.runner import MAX_SLICE_MS, PACED_SLICE_MS, Progress, Replay, ReplayError

    settings = _settings(ctx, archive_dir=archive_dir)
    if start is None or end is None:
        raise fail("--from and --to are required (the event-time range to replay)")
    from_ms, to_ms = _range(settings, start, end)
    factor = parse_speed(speed)
    namespace = namespace or f"{REPLAY_PREFIX}{time.strftime('%Y%m%d-%H%M%S')}"
    wanted = sorted({s.strip() for s in stations.split(",") if s.strip()}) if stations else None
    args = ReplayArgs(
        source=source.value,
        source_namespace=source_namespace or settings.namespace,
        from_ms=from_ms,
        to_ms=to_ms,
        stations=wanted,
        speed=speed if factor is not None else "max",
        slice_ms=MAX_SLICE_MS if factor is None else PACED_SLICE_MS,
        partitions=settings.partitions,
    )
    stop_on_sigterm()
    try:
        job = Replay(settings, namespace, args, load_registry(settings))
        reader = _source(settings, args)
        try:
            checkpoint = job.prepare(reader)
            verb = "resuming" if job.resumed else "replaying"
            typer.echo(f"{verb} {args.source_namespace} ({args.source}) into {namespace}", err=True)
            with open_producer(settings, backend) as producer, progress_bar("min") as bar:
                minutes = (to_ms - from_ms) / 60_000
                task = bar.add_task(namespace, total=minutes, readings=0)
                bar.columns = (*bar.columns[:3], ReadingsRate(), *bar.columns[4:])

                def advance(done: float, readings: int) -> None:
                    total = bar.tasks[task].fields["readings"] + readings
                    bar.update(task, advance=done, readings=total)

                checkpoint = job.run(reader, producer, Progress(advance))
        finally:
            reader.close()
    except (ReplayError, ArchiveError, AdminError, ProducerError) as exc:
        raise fail(str(exc), 1) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted: run the same command again to resume {namespace}", err=True)
        raise typer.Exit(130) from None
    typer.echo(
        f"replayed {checkpoint.readings:,} readings in {checkpoint.messages:,} messages into "
        f"{namespace}; next: envmon worker --namespace {namespace}",
        err=True,
    )


def _settings(ctx: typer.Context, **overrides: Any) -> Settings:
    try:
        return with_overrides(settings_of(ctx), **overrides)
    except SettingsError as exc:
        raise fail(str(exc)) from None


def _range(settings: Settings, start: str, end: str) -> tuple[int, int]:
    now_ms = int(time.time() * 1000)
    try:
        from_ms = parse_when(start, now_ms, settings.tz)
    except ValueError as exc:
        raise fail(f"--from: {exc}") from None
    try:
        to_ms = parse_when(end, now_ms, settings.tz)
    except ValueError as exc:
        raise fail(f"--to: {exc}") from None
    if to_ms <= from_ms:
        shown = label(to_ms, settings.tz), label(from_ms, settings.tz)
        raise fail("--to ({}) must be after --from ({})".format(*shown))
    return from_ms, to_ms


def _source(settings: Settings, args: ReplayArgs) -> ReplaySource:
    from pipeline.replay.source import ArchiveSource, KafkaSource

    if args.source == "archive":
        return ArchiveSource(
            settings.archive_dir, args.source_namespace, args.from_ms, args.to_ms, settings.tz
        )
    return KafkaSource(settings, args.source_namespace, args.from_ms)


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    a: str = typer.Option(..., "--a", help="One namespace, e.g. env."),
    b: str = typer.Option(..., "--b", help="The other, e.g. replay-<id>."),
    start: str = typer.Option(..., "--from", help="Start of event time."),
    end: str = typer.Option(..., "--to", help="End of event time (exclusive)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Compare AQI results, rankings and alert transitions of two namespaces; exit 1 when they
    differ."""
    from pipeline.kafka.admin import AdminError
    from pipeline.replay.diff import diff, read_results

    settings = _settings(ctx)
    from_ms, to_ms = _range(settings, start, end)
    try:
        found = diff(
            read_results(settings, a, from_ms, to_ms), read_results(settings, b, from_ms, to_ms)
        )
    except AdminError as exc:
        raise fail(str(exc), 1) from None
    report = {"a": a, "b": b, "from": label(from_ms, settings.tz), "to": label(to_ms, settings.tz)}
    report |= found
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_diff(report, settings)
    raise typer.Exit(0 if report["equal"] else 1)


def _print_diff(report: dict[str, Any], settings: Settings) -> None:
    from pipeline.replay.diff import SHOWN

    console = Console(width=140)
    a, b = report["a"], report["b"]
    summary = Table(title=f"{a} vs {b}, {report['from']} to {report['to']}")
    for column in ("results", f"in {a}", f"in {b}", f"only in {a}", f"only in {b}", "differ"):
        summary.add_column(column, justify="left" if column == "results" else "right")
    for name in ("aqi", "rankings", "alerts"):
        part = report[name]
        summary.add_row(
            name,
            *(str(part[k]) for k in ("count_a", "count_b")),
            *(str(len(part[k])) for k in ("only_a", "only_b", "differ")),
        )
    console.print(summary)
    alerts = report["alerts"]
    tz = settings.tz
    rows = [(a, t) for t in alerts["only_a"]] + [(b, t) for t in alerts["only_b"]]
    if rows:
        table = Table(title="alert transitions on one side only")
        for column in (
            "side",
            "rule",
            "subject",
            "state",
            "severity",
            "event",
            "value",
            "threshold",
        ):
            table.add_column(column)
        for side, t in rows[:SHOWN]:
            table.add_row(
                side, t["rule"], t["subject"], t["state"], t["severity"],
                label(t["event_ms"], tz), str(t["value"]), str(t["threshold"]),
            )  # fmt: skip
        console.print(table)
    if alerts["first_fire"]:
        table = Table(title="first firing")
        for column in ("alert", a, b):
            table.add_column(column)
        for row in alerts["first_fire"][:SHOWN]:
            shown = ("-" if row[s] is None else label(row[s], tz) for s in ("a", "b"))
            table.add_row(row["alert"], *shown)
        console.print(table)
    for name in ("aqi", "rankings", "alerts"):
        differ = report[name]["differ"]
        if differ:
            table = Table(title=f"{name}: values that differ")
            for column in ("key", a, b):
                table.add_column(column, overflow="fold")
            for row in differ[:SHOWN]:
                changed = [k for k in row["a"] if row["a"][k] != row["b"].get(k)]
                table.add_row(
                    row["key"],
                    json.dumps({k: row["a"][k] for k in changed}, ensure_ascii=False),
                    json.dumps({k: row["b"].get(k) for k in changed}, ensure_ascii=False),
                )
            console.print(table)
    for name in ("aqi", "rankings"):
        for side, key in ((a, "only_a"), (b, "only_b")):
            if report[name][key]:
                keys = ", ".join(report[name][key][:SHOWN])
                console.print(f"{name} only in {side} ({len(report[name][key])}): {keys}")
    console.print("no differences" if report["equal"] else "[bold]the namespaces differ[/]")


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """Replay namespaces: their topics and checkpoints."""
    from pipeline.kafka.admin import AdminError
    from pipeline.replay.catalog import list_replays

    settings = _settings(ctx)
    try:
        infos = list_replays(settings)
    except AdminError as exc:
        raise fail(str(exc), 1) from None
    table = Table(title="replays")
    for column in ("namespace", "status", "source", "from", "to", "readings", "topics"):
        table.add_column(column)
    for info in infos:
        c = info.checkpoint
        if c is None:
            table.add_row(info.namespace, "no checkpoint", "", "", "", "", str(info.topics))
            continue
        table.add_row(
            info.namespace,
            "complete" if c.done else f"unfinished (slice {c.slice_index})",
            f"{c.args.source_namespace} ({c.args.source})",
            label(c.args.from_ms, settings.tz),
            label(c.args.to_ms, settings.tz),
            f"{c.readings:,}",
            str(info.topics),
        )
    Console(width=140).print(table)


@app.command("drop")
def drop_command(
    ctx: typer.Context, run: str = typer.Argument(..., help="The replay id (replay-<id>).")
) -> None:
    """Delete a replay: its topics, the worker's internal topics, its points (run=<id>) in the
    replay database/bucket, and its checkpoint."""
    from pipeline.kafka.admin import AdminError
    from pipeline.replay.catalog import drop_replay

    settings = _settings(ctx)
    run = run.removeprefix(REPLAY_PREFIX)
    try:
        for line in drop_replay(settings, run):
            typer.echo(line)
    except AdminError as exc:
        raise fail(str(exc), 1) from None
