"""File feed: CSV or JSON-lines history (e.g. exported from a national platform) into readings.

Column mapping (case-insensitive; spaces, ``_``, ``-`` and ``.`` are ignored when matching):

| reading field | accepted column names |
| --- | --- |
| station | ``station``, ``station_id``, ``code``, ``mn``, ``站点编码``, ``监测点编码``, ``站点`` |
| ts | ``ts``, ``time``, ``timestamp``, ``datetime``, ``监测时间``, ``时间`` |
| interval (s) | ``interval``, ``interval_s`` (default: ``--interval``) |
| air values | ``so2`` ``no2`` ``co`` ``o3`` ``pm10`` ``pm25`` (also ``PM2.5``, ``pm2_5``) |
| water values | ``ph`` ``do`` ``codmn`` ``cod`` ``bod5`` ``nh3n`` (``NH3-N``) ``tp`` ``tn`` |
| | ``temp`` ``cond`` ``turb`` |

A column may state its unit in brackets, ``CO(mg/m3)``, ``PM2.5[ug/m3]``, ``NH3-N (mg/L)``; it is
checked against the schema's unit and converted when it is a known multiple (``pipeline/units.py``:
ng/m³ or μg/m³ ↔ mg/m³, μg/L → mg/L, mS/cm → μS/cm). An unknown unit stops the feed before anything
is sent. Other columns (``AQI``, ``质量等级``, …) are ignored and reported. Timestamps without an
offset are local time in the configured zone. Empty cells, ``-``, ``—``, ``NA``, ``null`` mean not
measured.

Every row is validated by the same decoder the stream agents use; a bad row becomes a dead letter
(its line number as the offset) with the decoder's reason code — never a crash, never a silent skip.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.messages import VALUES_TYPES, Reject, RejectReason
from pipeline.registry import StationKind
from pipeline.units import SCHEMA_UNITS, UnitError, unit_factor

_ALIASES = {
    "station": ("station", "stationid", "code", "mn", "站点编码", "监测点编码", "站点"),
    "ts": ("ts", "time", "timestamp", "datetime", "datatime", "监测时间", "时间"),
    "interval": ("interval", "intervals"),
    "pm25": ("pm25", "pm2.5"),
    "nh3n": ("nh3n", "氨氮"),
}
_VALUE_KEYS = {k for kind in StationKind for k in VALUES_TYPES[kind].__struct_fields__}
_MISSING = {"", "-", "—", "na", "n/a", "null", "none"}

_HEADER = re.compile(r"^\s*(?P<name>[^(\[]+?)\s*(?:[(\[](?P<unit>[^)\]]*)[)\]])?\s*$")


class FeedError(ValueError):
    """The file as a whole cannot be read (format, header, unit); nothing was sent."""


@dataclass(frozen=True, slots=True)
class Column:
    source: str  # header as written
    key: str  # station | ts | interval | a value key
    factor: float = 1.0  # multiplies the value into the schema's unit


@dataclass(frozen=True, slots=True)
class Row:
    """One input row as a wire message, or why it could not become one."""

    line: int
    raw: bytes  # the row as read (the dead letter keeps it)
    message: bytes | None
    station: str | None
    reject: Reject | None = None
    value_keys: tuple[str, ...] = ()


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _canonical(name: str) -> str | None:
    norm = _normalise(name)
    for key, aliases in _ALIASES.items():
        if norm in aliases:
            return key
    dotless = norm.replace(".", "")
    if dotless in _VALUE_KEYS:
        return dotless
    return None


def map_columns(headers: list[str], require: bool = True) -> tuple[list[Column], list[str]]:
    """The mapped columns and the ignored headers; FeedError on an unknown unit, or (``require``)
    when there is no station or time column."""
    columns, ignored = [], []
    for header in headers:
        match = _HEADER.match(header or "")
        key = _canonical(match["name"]) if match else None
        if key is None:
            ignored.append(header)
            continue
        columns.append(
            Column(header, key, _factor(header, key, (match["unit"] or "") if match else ""))
        )
    keys = {c.key for c in columns}
    for required in ("station", "ts") if require else ():
        if required not in keys:
            raise FeedError(
                f"no {required} column; expected one of: {', '.join(_ALIASES[required])}"
            )
    return columns, ignored


def _factor(header: str, key: str, unit_text: str) -> float:
    if key not in SCHEMA_UNITS or not unit_text.strip():  # no unit stated
        return 1.0
    try:
        return unit_factor(unit_text, key)
    except UnitError as exc:
        raise FeedError(f"column {header!r}: {exc}") from None


class RowConverter:
    """Turns mapped cells into the wire form of one reading (validated later by the decoder)."""

    def __init__(self, columns: list[Column], tz: ZoneInfo, default_interval_s: int) -> None:
        self.columns = columns
        self.tz = tz
        self.default_interval_s = default_interval_s

    def convert(self, line: int, raw: bytes, cells: dict[str, Any]) -> Row:
        message: dict[str, Any] = {"v": 1, "interval": self.default_interval_s, "values": {}}
        for column in self.columns:
            cell = cells.get(column.source)
            if _is_missing(cell):
                continue
            try:
                self._put(message, column, cell)
            except ValueError as exc:
                return Row(
                    line,
                    raw,
                    None,
                    _text(cells.get(self._source_of("station"))),
                    _reject(column, exc),
                )
        station = message.get("station")
        if station is None:
            return Row(
                line,
                raw,
                None,
                None,
                Reject(RejectReason.MISSING_FIELD, "station", "no station id"),
            )
        if "ts" not in message:
            return Row(
                line, raw, None, station, Reject(RejectReason.MISSING_FIELD, "ts", "no timestamp")
            )
        encoded = json.dumps(message, ensure_ascii=False).encode()
        return Row(line, raw, encoded, station, value_keys=tuple(message["values"]))

    def _source_of(self, key: str) -> str | None:
        return next((c.source for c in self.columns if c.key == key), None)

    def _put(self, message: dict[str, Any], column: Column, cell: Any) -> None:
        if column.key == "station":
            message["station"] = _text(cell)
        elif column.key == "ts":
            message["ts"] = self._timestamp(cell)
        elif column.key == "interval":
            message["interval"] = int(_number(cell))
        else:
            message["values"][column.key] = _number(cell) * column.factor

    def _timestamp(self, cell: Any) -> str | int:
        if isinstance(cell, int) and not isinstance(cell, bool):
            return cell
        text = str(cell).strip()
        if text.isdigit():
            return int(text)
        dt = datetime.fromisoformat(text.replace("/", "-").replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.tz)
        return dt.isoformat()


def _reject(column: Column, exc: ValueError) -> Reject:
    if column.key == "ts":
        return Reject(RejectReason.BAD_TIMESTAMP, "ts", f"column {column.source!r}: {exc}")
    return Reject(RejectReason.WRONG_TYPE, column.key, f"column {column.source!r}: {exc}")


def _is_missing(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip().lower() in _MISSING)


def _text(cell: Any) -> str | None:
    return None if _is_missing(cell) else str(cell).strip()


def _number(cell: Any) -> float:
    if isinstance(cell, bool):
        raise ValueError(f"{cell!r} is not a number")
    if isinstance(cell, int | float):
        return float(cell)
    try:
        return float(str(cell).strip())
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None


def read_rows(path: Path, tz: ZoneInfo, default_interval_s: int) -> tuple[Iterator[Row], list[str]]:
    """The rows of a CSV or JSON-lines file and the ignored columns (known after the header)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path, tz, default_interval_s)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl_rows(path, tz, default_interval_s)
    raise FeedError(f"{path.name}: unknown format {suffix!r}; expected .csv, .jsonl or .ndjson")


def _open(path: Path):  # type: ignore[no-untyped-def]
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise FeedError(f"{path}: {exc.strerror}") from None


def _csv_rows(path: Path, tz: ZoneInfo, interval: int) -> tuple[Iterator[Row], list[str]]:
    fh = _open(path)
    lines = iter(fh)
    header_line = next(lines, "")
    headers = next(csv.reader([header_line]), [])
    columns, ignored = map_columns(headers)
    converter = RowConverter(columns, tz, interval)

    def rows() -> Iterator[Row]:
        with fh:
            for number, text in enumerate(lines, start=2):
                if not text.strip():
                    continue
                cells = next(csv.reader([text]))
                raw = text.rstrip("\r\n").encode()
                if len(cells) != len(headers):
                    detail = f"{len(cells)} cells, header has {len(headers)}"
                    yield Row(
                        number, raw, None, None, Reject(RejectReason.MALFORMED_ROW, None, detail)
                    )
                    continue
                yield converter.convert(number, raw, dict(zip(headers, cells, strict=True)))

    return rows(), ignored


def _jsonl_rows(path: Path, tz: ZoneInfo, interval: int) -> tuple[Iterator[Row], list[str]]:
    fh = _open(path)
    seen: dict[str, RowConverter] = {}
    ignored: list[str] = []

    def rows() -> Iterator[Row]:
        with fh:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                raw = text.rstrip("\r\n").encode()
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield Row(
                        number, raw, None, None, Reject(RejectReason.MALFORMED_JSON, None, exc.msg)
                    )
                    continue
                if not isinstance(obj, dict):
                    yield Row(
                        number,
                        raw,
                        None,
                        None,
                        Reject(RejectReason.WRONG_TYPE, None, "not an object"),
                    )
                    continue
                headers = tuple(obj)
                converter = seen.get(",".join(headers))
                if converter is None:
                    try:
                        columns, skipped = map_columns(list(headers), require=False)
                    except FeedError as exc:
                        yield Row(
                            number,
                            raw,
                            None,
                            None,
                            Reject(RejectReason.MALFORMED_ROW, None, str(exc)),
                        )
                        continue
                    ignored.extend(h for h in skipped if h not in ignored)
                    converter = seen[",".join(headers)] = RowConverter(columns, tz, interval)
                yield converter.convert(number, raw, obj)

    return rows(), ignored
