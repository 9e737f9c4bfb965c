"""InfluxDB line protocol: the one encoder behind both write paths (v1 ``/write``, v2 API).

``measurement,tag=value,… field=value,… timestamp`` with the escaping InfluxDB 1.x, 2.x and 3.x
agree on: measurement names escape comma and space; tag keys, tag values and field keys escape
comma, ``=`` and space; string field values escape ``"`` and ``\\``. Tags are written sorted by
key (InfluxDB's own order), ``None`` tags and fields are left out, empty tag values too.

Line protocol has no way to carry a newline, carriage return or tab in a name, tag or field key,
and InfluxDB versions read a backslash there differently; such input raises
:class:`LineProtocolError` instead of writing a point with other tags than meant. Non-finite
floats raise too (InfluxDB stores no NaN or infinity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

FieldValue = float | int | bool | str

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})
_UNREPRESENTABLE = frozenset("\\\n\r\t")


class LineProtocolError(ValueError):
    """A point that line protocol cannot carry as given; the message says what and why."""


def _checked(text: str) -> str:
    if not text or not _UNREPRESENTABLE.isdisjoint(text):
        raise LineProtocolError(f"{text!r} is empty or holds a backslash, tab or newline")
    return text


# Names, keys and tag values come from small sets (stations, districts, field names): cached.
@lru_cache(maxsize=256)
def _measurement(name: str) -> str:
    return _checked(name).translate(_MEASUREMENT)


@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    """A tag key, tag value or field key, escaped."""
    return _checked(text).translate(_KEY)


def _field(key: str, value: FieldValue) -> str:
    kind = value.__class__
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise LineProtocolError(f"field {key!r} is {value}; InfluxDB stores finite numbers")
        return f"{_key(key)}={value!r}"
    if kind is int:
        return f"{_key(key)}={value}i"
    if kind is str:
        if '"' in value or "\\" in value:  # type: ignore[operator]
            value = value.translate(_STRING)  # type: ignore[union-attr]
        return f'{_key(key)}="{value}"'
    if kind is bool:
        return f"{_key(key)}={'true' if value else 'false'}"
    raise LineProtocolError(f"field {key!r} has unsupported type {kind.__name__}")


def encode(
    measurement: str,
    tags: Mapping[str, str | None],
    fields: Mapping[str, FieldValue | None],
    ts_ns: int,
) -> str:
    """One line of line protocol, timestamp in nanoseconds since the epoch (UTC)."""
    head = _measurement(measurement)
    for key, value in sorted(tags.items()):
        if value:
            head += f",{_key(key)}={_key(value)}"
    body = ",".join([_field(k, v) for k, v in fields.items() if v is not None])
    if not body:
        raise LineProtocolError(f"a {measurement!r} point without fields")
    return f"{head} {body} {ts_ns}"
