"""InfluxDB line protocol: the one encoder behind both write paths (v1 ``/write``, v2 API).

``measurement,tag=value,… field=value,… timestamp`` with the escaping InfluxDB 1.x, 2.x and 3.x
agree on: measurement names escape comma and space; tag keys, tag values and field keys escape
comma, ``=`` and space; string field values escape ``"`` and ``\\``. Tags are written sorted by
key (InfluxDB's own order), ``None`` tags and fields are left out, empty tag values too.

Line protocol has no way to carry a newline, carriage return or tab in a name, tag or field key,
and InfluxDB versions read a backslash there differently; such input raises
:class:`LineProtocolError` instead of writing a point with other tags than meant. Non-finite
floats raise too (InfluxDB stores no NaN or infinity).

Speed (``bench/bench_sink.py``): a line is a cached *series* (measurement and tags, escaped
once per distinct tag set: tags are bounded sets by design) and its fields, whose escaped keys
are cached too; :func:`field_set` formats them in one loop without a call per field. A hot
measurement may write its fixed fields itself: literal keys, ``int`` values (typed by the
message schema), strings through :func:`quoted`, the rest through :func:`field_set`. Raw
readings' values, the bulk of all points, are formatted in C by :func:`float_field_set`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import msgspec

FieldValue = float | int | bool | str

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})
_UNREPRESENTABLE = frozenset("\\\n\r\t")
_CACHE_SIZE = 8192  # distinct tag sets and field keys kept escaped


class LineProtocolError(ValueError):
    """A point that line protocol cannot carry as given; the message says what and why."""


def _checked(text: str) -> str:
    if not text or not _UNREPRESENTABLE.isdisjoint(text):
        raise LineProtocolError(f"{text!r} is empty or holds a backslash, tab or newline")
    return text


def _key(text: str) -> str:
    """A tag key, tag value or field key, escaped."""
    return _checked(text).translate(_KEY)


class _FieldKeys(dict[str, str]):
    """Field key -> ``escaped_key=``, computed on first use; bounded (keys can come from
    message data, e.g. the pollutants of a concentrations map)."""

    def __missing__(self, key: str) -> str:
        if len(self) >= _CACHE_SIZE:
            self.clear()
        escaped = self[key] = _key(key) + "="
        return escaped


_field_keys = _FieldKeys()


def series(measurement: str, tags: Mapping[str, str | None]) -> str:
    """``measurement,tag=value,…`` escaped, tags sorted by key, empty and ``None`` ones left
    out: the head of every line of that series."""
    return _series(measurement, tuple(tags.items()))


@lru_cache(maxsize=_CACHE_SIZE)
def _series(measurement: str, tags: tuple[tuple[str, str | None], ...]) -> str:
    head = _checked(measurement).translate(_MEASUREMENT)
    for key, value in sorted(tags):
        if value:
            head += f",{_key(key)}={_key(value)}"
    return head


def quoted(text: str) -> str:
    """A string field value: ``"text"`` with ``"`` and ``\\`` escaped."""
    if '"' in text or "\\" in text:
        text = text.translate(_STRING)
    return f'"{text}"'


def field_set(values: Mapping[str, FieldValue | None]) -> str:
    """``key=value,…`` of the values that are not ``None`` ("" if none), in their order."""
    keys = _field_keys
    parts = []
    append = parts.append
    for key, value in values.items():  # branches in the order of their frequency
        if value is None:
            continue
        kind = value.__class__
        if kind is float:
            if value - value:  # type: ignore[operator]  # NaN for NaN and ±inf, else 0.0
                raise LineProtocolError(f"field {key!r} is {value}; InfluxDB stores finite numbers")
            append(f"{keys[key]}{value!r}")
        elif kind is str:
            if '"' in value or "\\" in value:  # type: ignore[operator]
                value = value.translate(_STRING)  # type: ignore[union-attr]
            append(f'{keys[key]}"{value}"')
        elif kind is int:
            append(f"{keys[key]}{value}i")
        elif kind is bool:
            append(f"{keys[key]}{'true' if value else 'false'}")
        else:
            raise LineProtocolError(f"field {key!r} has unsupported type {kind.__name__}")
    return ",".join(parts)


def field_key(key: str) -> str:
    """``escaped_key=`` (cached), to write a field by hand: ``field_key(k) + quoted(text)``."""
    return _field_keys[key]


_json = msgspec.json.Encoder()


def float_field_set(values: msgspec.Struct) -> str:
    """``key=value,…`` of a struct of optional floats, formatted in C: msgspec's JSON of the
    struct (``None`` fields left out, by ``omit_defaults``) without braces and quotes, ``:``
    made ``=``. Floats come out as their shortest round-trip text, the numbers ``repr`` writes
    (``1e16`` for ``1e+16``, ``0.00001`` for ``1e-05``: InfluxDB reads both alike).

    The struct's schema must make the checks moot: field names that are plain identifiers
    (nothing to escape), values bounded (finite), ``omit_defaults=True`` with ``None``
    defaults (the readings' values structs; tests/unit/test_points.py holds them to it).
    """
    return _json.encode(values).translate(None, b'{}"').replace(b":", b"=").decode()


def line(head: str, values: Mapping[str, FieldValue | None], ts_ns: int) -> str:
    """One line of series ``head`` (from :func:`series`), timestamp in ns since the epoch (UTC)."""
    body = field_set(values)
    if not body:
        raise LineProtocolError(f"a point of {head!r} without fields")
    return f"{head} {body} {ts_ns}"


def encode(
    measurement: str,
    tags: Mapping[str, str | None],
    fields: Mapping[str, FieldValue | None],
    ts_ns: int,
) -> str:
    """One line of line protocol, timestamp in nanoseconds since the epoch (UTC)."""
    return line(series(measurement, tags), fields, ts_ns)
