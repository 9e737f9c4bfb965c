"""``envmon ingest PATH``: feed CSV or JSON-lines history into the readings topics."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pipeline.commands.common import fail, load_registry, progress_bar, stop_on_sigterm
from pipeline.commands.config import settings_of
from pipeline.sources.filefeed import FeedError, read_rows
from pipeline.sources.ingest import Ingest, IngestSummary
from pipeline.topics import Topics


def ingest(
    ctx: typer.Context,
    path: Path = typer.Argument(
        ..., help="A .csv, .jsonl or .ndjson file (column mapping in the README)."
    ),
    namespace: str | None = typer.Option(None, help="Topic namespace (default: ENVMON_NAMESPACE)."),
    interval: int = typer.Option(
        3600, min=1, help="Averaging interval (s) when the file has none."
    ),
    backend: str | None = typer.Option(None, help="kafka-python or confluent (default: setting)."),
) -> None:
    """Send a file's readings (envelopes per station); bad rows go to the dead-letter topic."""
    from pipeline.kafka.producer import ProducerError, open_producer

    settings = settings_of(ctx)
    stop_on_sigterm()
    registry = load_registry(settings)
    topics = Topics(namespace or settings.namespace)
    try:
        rows, ignored = read_rows(path, settings.tz, interval)
    except FeedError as exc:
        raise fail(f"PATH {exc}") from None
    total = _count_lines(path)
    try:
        with open_producer(settings, backend) as producer, progress_bar("rows") as progress:
            task = progress.add_task(f"ingest {path.name}", total=total)
            feed = Ingest(registry, topics, producer.send, str(path))
            feed.feed(rows, lambda n: progress.advance(task, n))
            summary = feed.finish()
    except ProducerError as exc:
        raise fail(str(exc)) from None
    summary.ignored_columns = ignored
    _print_summary(summary)
    if summary.rejected:
        raise typer.Exit(1)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return max(sum(1 for _ in fh) - (path.suffix.lower() == ".csv"), 0)


def _print_summary(summary: IngestSummary) -> None:
    console = Console(stderr=True)
    table = Table(title="ingest summary")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("rows read", str(summary.read))
    table.add_row("readings sent", str(summary.sent))
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", str(count))
    console.print(table)
    for line, reason, detail in summary.rejected_lines[:20]:
        console.print(f"  line {line}: {reason}: {detail}")
    if len(summary.rejected_lines) > 20:
        console.print(
            f"  … and {len(summary.rejected_lines) - 20} more (all in the dead-letter topic)"
        )
    if summary.ignored_columns:
        console.print(f"ignored columns: {', '.join(summary.ignored_columns)}")
