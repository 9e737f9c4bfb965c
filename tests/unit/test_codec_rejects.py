"""Every reject reason the decoder gives, with its field; and no input makes it raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.messages import Decoder, Reading, Reject, RejectReason
from pipeline.messages.reasons import HJ212_REASONS
from pipeline.registry import Registry, StationKind

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
MINUTE_MS = 60_000
R = RejectReason
AIR, WATER = StationKind.AIR, StationKind.WATER


def msg(**fields: Any) -> bytes:
    """A valid single air reading with ``fields`` replaced (``None`` removes a field)."""
    base = {"v": 1, "station": "1356A", "ts": NOW_MS, "interval": 3600, "values": {"pm25": 35}}
    return json.dumps({k: v for k, v in (base | fields).items() if v is not None}).encode()


def env(*items: dict[str, Any], **fields: Any) -> bytes:
    return json.dumps({"v": 1, "station": "1356A", "readings": list(items), **fields}).encode()


def item(ts: Any = NOW_MS, **fields: Any) -> dict[str, Any]:
    return {"ts": ts, "interval": 3600, "values": {"pm25": 35}, **fields}


CASES: list[tuple[str, StationKind, bytes, RejectReason, str | None]] = [
    ("truncated", AIR, b'{"v":1,"station":', R.MALFORMED_JSON, None),
    ("not utf-8", AIR, b'{"v":1,"station":"\xff"}', R.MALFORMED_JSON, None),
    ("empty", AIR, b"", R.MALFORMED_JSON, None),
    ("v2 other shape", AIR, b'{"v":2,"site":"1356A","data":[]}', R.UNKNOWN_VERSION, "v"),
    ("v2 same shape", AIR, msg(v=2), R.UNKNOWN_VERSION, "v"),
    ("v2 with NaN", AIR, b'{"v":2,"x":NaN}', R.UNKNOWN_VERSION, "v"),
    ("no v", AIR, msg(v=None), R.MISSING_FIELD, "v"),
    ("no station", AIR, msg(station=None), R.MISSING_FIELD, "station"),
    ("no ts", AIR, msg(ts=None), R.MISSING_FIELD, "ts"),
    ("no interval", AIR, msg(interval=None), R.MISSING_FIELD, "interval"),
    ("no values", AIR, msg(values=None), R.MISSING_FIELD, "values"),
    (
        "item no values",
        AIR,
        env(item(), {"ts": NOW_MS, "interval": 60}),
        R.MISSING_FIELD,
        "readings[1].values",
    ),
    ("v as string", AIR, msg(v="1"), R.WRONG_TYPE, "v"),
    ("array", AIR, b"[1,2]", R.WRONG_TYPE, None),
    ("interval as string", AIR, msg(interval="3600"), R.WRONG_TYPE, "interval"),
    ("value as string", AIR, msg(values={"pm25": "35"}), R.WRONG_TYPE, "values.pm25"),
    ("flags not text", AIR, msg(flags={"pm25": 1}), R.WRONG_TYPE, "flags"),
    ("envelope with ts", AIR, env(item(), ts=NOW_MS), R.WRONG_TYPE, None),
    ("envelope with flags", AIR, env(item(), flags={"pm25": "N"}), R.WRONG_TYPE, None),
    ("naive", AIR, msg(ts="2026-11-27T10:00:00"), R.BAD_TIMESTAMP, "ts"),
    ("not a time", AIR, msg(ts="yesterday"), R.BAD_TIMESTAMP, "ts"),
    ("float ts", AIR, msg(ts=1764208800.5), R.BAD_TIMESTAMP, "ts"),
    ("epoch seconds", AIR, msg(ts=NOW_MS // 1000), R.BAD_TIMESTAMP, "ts"),
    (
        "naive in envelope",
        AIR,
        env(item(), item("2026-11-27T11:00")),
        R.BAD_TIMESTAMP,
        "readings[1].ts",
    ),
    ("11 min ahead", AIR, msg(ts=NOW_MS + 11 * MINUTE_MS), R.FUTURE_TIMESTAMP, "ts"),
    ("ahead, rfc3339", AIR, msg(ts="2026-11-27T11:00:00+08:00"), R.FUTURE_TIMESTAMP, "ts"),
    (
        "ahead in envelope",
        AIR,
        env(item(), item(NOW_MS + 11 * MINUTE_MS)),
        R.FUTURE_TIMESTAMP,
        "readings[1].ts",
    ),
    (
        "NaN",
        AIR,
        b'{"v":1,"station":"1356A","ts":1,"interval":60,"values":{"pm25":NaN}}',
        R.NON_FINITE,
        "values.pm25",
    ),
    (
        "Infinity",
        AIR,
        b'{"v":1,"station":"1356A","ts":1,"interval":60,"values":{"o3":Infinity}}',
        R.NON_FINITE,
        "values.o3",
    ),
    (
        "-Infinity",
        AIR,
        b'{"v":1,"station":"1356A","ts":1,"interval":60,"values":{"co":-Infinity}}',
        R.NON_FINITE,
        "values.co",
    ),
    (
        "1e400",
        AIR,
        b'{"v":1,"station":"1356A","ts":1,"interval":60,"values":{"no2":1e400}}',
        R.NON_FINITE,
        "values.no2",
    ),
    (
        "NaN in envelope",
        AIR,
        b'{"v":1,"station":"1356A","readings":[{"ts":1,"values":{}},{"values":{"so2":NaN}}]}',
        R.NON_FINITE,
        "readings[1].values.so2",
    ),
    ("negative pm25", AIR, msg(values={"pm25": -0.1}), R.NEGATIVE_VALUE, "values.pm25"),
    (
        "negative pH",
        WATER,
        msg(station="mzh-gonghe", values={"ph": -1}),
        R.NEGATIVE_VALUE,
        "values.ph",
    ),
    (
        "negative in envelope",
        AIR,
        env(item(values={"co": -1})),
        R.NEGATIVE_VALUE,
        "readings[0].values.co",
    ),
    ("pm10 in ng/m3", AIR, msg(values={"pm10": 75600}), R.IMPLAUSIBLE_VALUE, "values.pm10"),
    (
        "pH 15",
        WATER,
        msg(station="mzh-gonghe", values={"ph": 15}),
        R.IMPLAUSIBLE_VALUE,
        "values.ph",
    ),
    (
        "water -6 C",
        WATER,
        msg(station="mzh-gonghe", values={"temp": -6}),
        R.IMPLAUSIBLE_VALUE,
        "values.temp",
    ),
    ("huge integer", AIR, msg(values={"pm25": 10**400}), R.IMPLAUSIBLE_VALUE, "values.pm25"),
    ("interval 0", AIR, msg(interval=0), R.IMPLAUSIBLE_VALUE, "interval"),
    (
        "interval 2 days",
        AIR,
        env(item(interval=172_800)),
        R.IMPLAUSIBLE_VALUE,
        "readings[0].interval",
    ),
    ("unknown station", AIR, msg(station="9999A"), R.UNKNOWN_STATION, "station"),
    ("water station on air topic", AIR, msg(station="szh-hekou"), R.WRONG_STATION_KIND, "station"),
    ("air station on water topic", WATER, msg(values={"ph": 7}), R.WRONG_STATION_KIND, "station"),
    ("empty envelope", AIR, env(), R.EMPTY_ENVELOPE, "readings"),
    ("backwards", AIR, env(item(), item(NOW_MS - 1)), R.ENVELOPE_OUT_OF_ORDER, "readings[1].ts"),
    (
        "same time twice",
        AIR,
        env(item(NOW_MS - 1), item(NOW_MS - 1)),
        R.ENVELOPE_OUT_OF_ORDER,
        "readings[1].ts",
    ),
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.mark.parametrize(
    ("kind", "raw", "reason", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reject(
    registry: Registry, kind: StationKind, raw: bytes, reason: RejectReason, field: str | None
) -> None:
    result = Decoder(kind, registry, clock=NOW.timestamp).decode(raw)
    assert isinstance(result, Reject), result
    assert (result.reason, result.field) == (reason, field), result.detail


def test_every_decoder_reason_has_a_case() -> None:
    # late and duplicate come from the stream agents, malformed_row from the file feed
    not_from_the_decoder = {R.LATE, R.DUPLICATE, R.INFLUX_REJECTED, R.MALFORMED_ROW} | HJ212_REASONS
    assert {c[3] for c in CASES} == set(RejectReason) - not_from_the_decoder


def test_ten_minutes_ahead_is_accepted(registry: Registry) -> None:
    result = Decoder(AIR, registry, clock=NOW.timestamp).decode(msg(ts=NOW_MS + 10 * MINUTE_MS))
    assert isinstance(result, list)


KEYS = ["v", "station", "ts", "interval", "values", "flags", "readings", "pm25", "ph", "x"]
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["1356A", "szh-hekou", "2026-11-27T10:00:00+08:00", "2026-11-27T10:00"])
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=30,
)


def near_valid() -> st.SearchStrategy[bytes]:
    """Valid messages with one field replaced by arbitrary JSON, as text."""
    return st.builds(
        lambda key, value, v: json.dumps({**json.loads(msg()), key: value, "v": v}).encode(),
        st.sampled_from(KEYS),
        JSON,
        st.sampled_from([1, 1, 2]),
    )


@pytest.mark.parametrize("kind", list(StationKind))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200) | JSON.map(lambda doc: json.dumps(doc).encode()) | near_valid())
def test_any_input_gives_readings_or_a_reject(
    registry: Registry, kind: StationKind, raw: bytes
) -> None:
    result = Decoder(kind, registry, clock=NOW.timestamp).decode(raw)
    if isinstance(result, Reject):
        assert result.reason in RejectReason
    else:
        assert result and all(isinstance(r, Reading) for r in result)
