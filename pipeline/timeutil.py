"""Event time: parsing, and clock hours and natural days in the configured zone (Asia/Shanghai).

Chinese standards define hours and days on local clock time (HJ 633 §5.1: the daily report covers
the natural day 0:00–24:00). All times travel as epoch milliseconds (UTC); zones apply only to
bucketing and labels. A clock is injected wherever "now" matters, so tests can advance it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

Clock = Callable[[], float]
"""Returns seconds since the epoch, like :func:`time.time`."""

system_clock: Clock = time.time


class ManualClock:
    """A clock for tests: starts at ``start`` seconds and moves only when told."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def parse_timestamp(value: str | int) -> int:
    """RFC 3339 with an offset, or epoch milliseconds, to epoch milliseconds.

    Raises ValueError for a string without an offset: event time must be unambiguous.
    """
    if isinstance(value, int):
        return value
    dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return int(dt.timestamp() * 1000)


def to_datetime(ts_ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz)


def hour_start(ts_ms: int, tz: ZoneInfo) -> int:
    """Start (epoch ms) of the local clock hour containing ``ts_ms``."""
    local = to_datetime(ts_ms, tz)
    return int(local.replace(minute=0, second=0, microsecond=0).timestamp() * 1000)


def day_start(ts_ms: int, tz: ZoneInfo) -> int:
    """Start (epoch ms) of the local natural day containing ``ts_ms``."""
    local = to_datetime(ts_ms, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def next_day_start(ts_ms: int, tz: ZoneInfo) -> int:
    local = to_datetime(day_start(ts_ms, tz), tz)
    return int((local + timedelta(days=1)).replace(hour=0).timestamp() * 1000)


def label(ts_ms: int, tz: ZoneInfo, minutes: bool = True) -> str:
    """Human-readable local time with offset, e.g. ``2026-11-27T10:00+08:00``."""
    fmt = "%Y-%m-%dT%H:%M%z" if minutes else "%Y-%m-%d"
    text = to_datetime(ts_ms, tz).strftime(fmt)
    return text[:-2] + ":" + text[-2:] if minutes else text


_RELATIVE = re.compile(r"^(?:now)?\s*(?P<sign>[+-])\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": HOUR_MS, "d": DAY_MS}


def parse_when(text: str, now_ms: int, tz: ZoneInfo) -> int:
    """A point in time given on a command line, in epoch ms.

    Accepts ``now``, ``now-6h`` / ``-6h`` / ``+30m`` (units s m h d), RFC 3339 with an offset,
    epoch milliseconds, or a local date or date-time (``2026-11-27``, ``2026-11-27T08:00``) in
    ``tz``. Raises ValueError saying what is accepted.
    """
    text = text.strip()
    if text == "now":
        return now_ms
    if match := _RELATIVE.match(text):
        delta = float(match["n"]) * _UNIT_MS[match["unit"]]
        return int(now_ms + delta if match["sign"] == "+" else now_ms - delta)
    if text.isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use now, now-6h, RFC 3339, epoch ms or a local date"
        ) from None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=tz)).timestamp() * 1000)


DURATION_UNITS_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(
    raw: object, units: Collection[str] = ("ms", "s", "m", "h", "d"), *, fractions: bool = True
) -> float:
    """Seconds from a number of seconds, or text ``<count><unit>`` with one of ``units`` (``90s``,
    ``15m``, ``1.5h``; surrounding blanks ignored). Without ``fractions`` only whole numbers and
    counts are accepted. Raises ValueError naming ``raw`` and what is accepted.
    """
    number = int | float if fractions else int
    if isinstance(raw, number) and not isinstance(raw, bool) and raw >= 0:
        return float(raw)
    match = _DURATION.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None or match[2] not in units or (not fractions and "." in match[1]):
        raise ValueError(f"bad duration {raw!r} (expected seconds, or e.g. 90s, 15m, 2h, 1d)")
    return float(match[1]) * DURATION_UNITS_S[match[2]]
