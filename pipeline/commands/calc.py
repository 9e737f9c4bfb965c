"""``envmon calc``: an exact interface to the standards engine, one JSON object per line."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pipeline.calc import Handler
    from pipeline.standards.water import WaterClass

app = typer.Typer(
    help="Compute AQI, water class and composite index from JSON lines on stdin.",
    no_args_is_help=True,
)


class Standard(StrEnum):
    hj633 = "hj633"
    hj633_2012 = "hj633-2012"
    hj633_2026 = "hj633-2026"
    epa = "epa"


class Report(StrEnum):
    hour = "hour"
    day = "day"


def _run(handler: Handler) -> None:
    from pipeline import calc

    failed = 0
    for outcome in calc.run_lines(sys.stdin, handler):
        sys.stdout.write(calc.dump(outcome.output) + "\n")
        failed += not outcome.ok
    sys.stdout.flush()
    if failed:
        typer.echo(f"{failed} line(s) failed", err=True)
        raise typer.Exit(1)


@app.command("aqi")
def aqi(
    standard: Standard = typer.Option(
        Standard.hj633, help="hj633 picks the edition in force at each line's ts."
    ),
    report: Report = typer.Option(Report.hour, help="hour: real-time report; day: daily report."),
) -> None:
    """AQI, level, primary pollutants and IAQI per pollutant (HJ 633-2012/2026, US EPA).

    Hourly keys: so2 no2 co o3 o3_8h pm10 pm25 pm10_24h pm25_24h so2_24h.
    Daily keys: so2 no2 co pm10 pm25 o3 o3_8h. μg/m³, CO mg/m³; optional ts.
    """
    from pipeline import calc

    _run(calc.aqi_handler(standard.value, report.value, lambda: datetime.now(UTC)))


def _water_class(value: str | None) -> WaterClass | None:
    from pipeline.standards.water import WaterClass

    if value is None:
        return None
    try:
        return WaterClass.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--target") from None


@app.command("water")
def water(
    lake: bool = typer.Option(False, "--lake", help="Lake/reservoir limits for TP; assess TN."),
    target: str | None = typer.Option(
        None, "--target", help="Target class (I..V) to check against."
    ),
) -> None:
    """Water class per GB 3838-2002 (I..V, 劣V) from keys ph do codmn cod bod5 nh3n tp tn (mg/L)."""
    from pipeline import calc

    _run(calc.water_handler(lake, _water_class(target)))


@app.command("composite")
def composite() -> None:
    """Composite air-quality index from period statistics so2 no2 pm10 pm25 co o3."""
    from pipeline import calc

    _run(calc.composite_handler())
