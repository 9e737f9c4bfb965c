"""The line-protocol encoder: what it writes parses back to what it was given, and agrees with
influxdb-client's own ``Point`` serialisation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from influxdb_client import Point

from pipeline.sinks.lineprotocol import FieldValue, LineProtocolError, encode

Parsed = tuple[str, dict[str, str], dict[str, FieldValue], int]


def parse(line: str) -> Parsed:
    """A reference parser of one line, following the line-protocol reference."""
    pos = 0

    def until(stops: str) -> str:
        nonlocal pos
        out = []
        while pos < len(line) and line[pos] not in stops:
            if line[pos] == "\\" and line[pos + 1] in ",= ":
                pos += 1
            out.append(line[pos])
            pos += 1
        return "".join(out)

    def string() -> str:
        nonlocal pos
        pos += 1  # opening quote
        out = []
        while line[pos] != '"':
            if line[pos] == "\\" and line[pos + 1] in '"\\':
                pos += 1
            out.append(line[pos])
            pos += 1
        pos += 1
        return "".join(out)

    measurement = until(", ")
    tags = {}
    while line[pos] == ",":
        pos += 1
        key = until("=")
        pos += 1
        tags[key] = until(", ")
    fields: dict[str, FieldValue] = {}
    while line[pos] != " " or not fields:  # " " before the first field, "," between fields
        pos += 1
        key = until("=")
        pos += 1
        if line[pos] == '"':
            fields[key] = string()
            continue
        raw = until(", ")
        if raw in ("true", "false"):
            fields[key] = raw == "true"
        elif raw.endswith("i"):
            fields[key] = int(raw[:-1])
        else:
            fields[key] = float(raw)
    return measurement, tags, fields, int(line[pos + 1 :])


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\\\n\r\t"), min_size=1
)
field_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",))),
)
points = st.tuples(
    names,
    st.dictionaries(names, names, max_size=4),
    st.dictionaries(names, field_values, min_size=1, max_size=4),
    st.integers(0, 2**62),
)


@given(points)
def test_what_is_encoded_parses_back(point: Parsed) -> None:
    measurement, tags, fields, ts = point
    assert parse(encode(measurement, tags, fields, ts)) == point


@given(points)
def test_agrees_with_influxdb_client_point(point: Parsed) -> None:
    measurement, tags, fields, ts = point
    client = Point(measurement).time(ts)
    for key, value in tags.items():
        client.tag(key, value)
    for key, value in fields.items():
        client.field(key, value)
    ours = parse(encode(measurement, tags, fields, ts))
    theirs = parse(client.to_line_protocol())  # it writes 2.0 as 2: same float
    assert ours == theirs


def test_escapes_the_acceptance_name() -> None:
    line = encode(
        "air_aqi",
        {"subject": "莲花 站,A=1", "district": "futian"},
        {"name_zh": '莲花 "Lianhua" 站, A=1 \\ 东', "aqi": 57, "pm25": 40.0, "ok": True},
        1_795_000_000_000_000_000,
    )
    assert line == (
        r"air_aqi,district=futian,subject=莲花\ 站\,A\=1 "
        r'name_zh="莲花 \"Lianhua\" 站, A=1 \\ 东",aqi=57i,pm25=40.0,ok=true '
        "1795000000000000000"
    )


def test_leaves_out_none_and_empty_tags() -> None:
    line = encode("m", {"a": None, "b": "", "c": "x"}, {"f": 1.5, "g": None}, 1)
    assert line == "m,c=x f=1.5 1"


@pytest.mark.parametrize(
    ("tags", "fields", "message"),
    [
        ({"station": "a\\b"}, {"f": 1}, "backslash"),
        ({"station": "a\nb"}, {"f": 1}, "newline"),
        ({}, {"f": math.nan}, "finite"),
        ({}, {"f": math.inf}, "finite"),
        ({}, {"f": None}, "without fields"),
        ({}, {"f": [1]}, "unsupported type"),
    ],
)
def test_refuses_what_line_protocol_cannot_carry(
    tags: dict[str, str], fields: dict[str, object], message: str
) -> None:
    with pytest.raises(LineProtocolError, match=message):
        encode("m", tags, fields, 1)  # type: ignore[arg-type]
