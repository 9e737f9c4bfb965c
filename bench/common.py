"""Shared by the benchmarks: a median rate over repeated passes, and printing a rich table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def median_rate(
    fn: Callable[[Any], object], items: Sequence[Any], per_item: int = 1, repeats: int = 7
) -> float:
    """Items per second: ``fn`` over every item, median of ``repeats`` passes."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            fn(item)
        times.append(time.perf_counter() - start)
    return len(items) * per_item / statistics.median(times)


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], note: str = ""
) -> None:
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console = Console(width=120)
    console.print(table)
    if note:
        console.print(note)
