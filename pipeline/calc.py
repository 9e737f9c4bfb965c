"""Line-oriented front end of the standards engine, behind ``envmon calc``.

Each input line is one JSON object; each output line is one JSON object: the result, or an error
object ``{"line": N, "error": CODE, "detail": TEXT}`` for that line. Other lines still run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.standards.aqi import compute_aqi
from pipeline.standards.composite import COMPOSITE_KEYS, composite_index
from pipeline.standards.water import WATER_KEYS, WaterClass, classify_water
from pipeline.timeutil import parse_timestamp

HOUR_KEYS = ("so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25", "pm10_24h", "pm25_24h", "so2_24h")
DAY_KEYS = ("so2", "no2", "co", "pm10", "pm25", "o3", "o3_8h")


class LineError(ValueError):
    """A bad input line: ``code`` is machine-readable, the message says what was wrong."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class LineOutcome:
    output: dict[str, Any]
    ok: bool


Handler = Callable[[dict[str, Any]], dict[str, Any]]


def run_lines(lines: Iterable[str], handler: Handler) -> Iterator[LineOutcome]:
    """Apply ``handler`` to each non-blank JSON line; errors become error objects for that line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield LineOutcome(handler(_parse_object(line)), True)
        except LineError as exc:
            yield LineOutcome({"line": number, "error": exc.code, "detail": str(exc)}, False)
        except ValueError as exc:  # the engine's own checks (e.g. out-of-domain values)
            yield LineOutcome({"line": number, "error": "invalid_value", "detail": str(exc)}, False)


def _parse_object(line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(
            "malformed_json", f"not valid JSON: {exc.msg} at column {exc.colno}"
        ) from None
    if not isinstance(obj, dict):
        raise LineError("not_an_object", f"expected a JSON object, got {type(obj).__name__}")
    return obj


def numbers(
    obj: Mapping[str, Any], allowed: tuple[str, ...], *, ignore: tuple[str, ...] = ()
) -> dict[str, float | None]:
    """The numeric keys of ``obj``: each known, a finite non-negative number or null."""
    values: dict[str, float | None] = {}
    for key, value in obj.items():
        if key in ignore:
            continue
        if key not in allowed:
            raise LineError(
                "unknown_key", f"unknown key {key!r}; expected some of: {', '.join(allowed)}"
            )
        if value is None:
            values[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LineError("wrong_type", f"{key}: expected a number, got {json.dumps(value)}")
        if not math.isfinite(value):
            raise LineError("non_finite", f"{key}: {value} is not a finite number")
        if value < 0:
            raise LineError("negative_value", f"{key}: {value} is negative")
        values[key] = float(value)
    return values


def aqi_handler(standard: str, report: str, now: Callable[[], datetime]) -> Handler:
    keys = HOUR_KEYS if report == "hour" else DAY_KEYS

    def handle(obj: dict[str, Any]) -> dict[str, Any]:
        at = _event_time(obj["ts"]) if "ts" in obj else now()
        conc = numbers(obj, keys, ignore=("ts",))
        return compute_aqi(conc, report, standard, at).to_dict()  # type: ignore[arg-type]

    return handle


def _event_time(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise LineError(
            "bad_timestamp", "ts: expected RFC 3339 text with an offset or epoch milliseconds"
        )
    try:
        return datetime.fromtimestamp(parse_timestamp(value) / 1000, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise LineError("bad_timestamp", f"ts: {exc}") from None


def water_handler(lake: bool, target: WaterClass | None) -> Handler:
    def handle(obj: dict[str, Any]) -> dict[str, Any]:
        return classify_water(numbers(obj, WATER_KEYS), lake=lake, target=target).to_dict()

    return handle


def composite_handler() -> Handler:
    def handle(obj: dict[str, Any]) -> dict[str, Any]:
        stats = numbers(obj, COMPOSITE_KEYS)
        missing = [k for k in COMPOSITE_KEYS if stats.get(k) is None]
        if missing:
            raise LineError(
                "missing_key", f"missing or null: {', '.join(missing)} (all six are needed)"
            )
        return composite_index(stats).to_dict()  # type: ignore[arg-type]

    return handle


def dump(obj: dict[str, Any]) -> str:
    """One output line: compact JSON, Chinese text kept as is."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
