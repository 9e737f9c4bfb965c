"""The replay's slices: every selected reading exactly once, each station's order kept, envelopes
the agents accept as the original messages, rejected records in their place."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.messages import AirReading, AirValues, Decoder, Reject, encode_reading
from pipeline.registry import Registry, StationKind
from pipeline.replay.kafka_range import Record
from pipeline.replay.slices import Outgoing, Selection, Stream, build_slice, decoders

REGISTRY = Registry.load(None)
STATIONS = sorted(s.id for s in REGISTRY.of_kind(StationKind.AIR))[:3]
T0 = 1_795_000_000_000
MINUTE = 60_000
BAD = b'{"v":1,"station":'


def record(offset: int, value: bytes, key: str) -> Record:
    return Record(0, offset, T0, key.encode(), value)


def reading(station: str, minute: int) -> bytes:
    return encode_reading(AirReading(station, T0 + minute * MINUTE, 60, AirValues(pm25=10.0)))


# a stream: per message (station index, minute) or a malformed message
messages = st.lists(
    st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 180)), st.just(None)), max_size=60
)


def run(values: list[tuple[int, int] | None], selection: Selection, envelopes: bool, slice_ms: int):
    records = [
        record(i, BAD, STATIONS[0])
        if v is None
        else record(i, reading(STATIONS[v[0]], v[1]), STATIONS[v[0]])
        for i, v in enumerate(values)
    ]
    stream = Stream("air", iter(records), 0, decoders(REGISTRY)["air"])
    out: list[Outgoing] = []
    end = T0
    while end < selection.to_ms:
        end += slice_ms
        out += build_slice({"air/0": stream}, selection, min(end, selection.to_ms), envelopes)
    return out, stream


def decoded(out: list[Outgoing]) -> dict[str, list[int | None]]:
    """Per station the event times sent, in order (None: a raw, rejected message)."""
    decoder = Decoder(StationKind.AIR, REGISTRY)
    per: dict[str, list[int | None]] = defaultdict(list)
    for m in out:
        result = decoder.decode(m.value)
        if isinstance(result, Reject):
            per[m.key.decode()].append(None)
        else:
            per[m.key.decode()].extend(r.ts_ms for r in result)
    return per


@settings(max_examples=150, deadline=None)
@given(messages, st.integers(0, 120), st.integers(1, 200), st.booleans())
def test_every_selected_reading_once_in_station_order(values, first, length, envelopes) -> None:
    selection = Selection(T0 + first * MINUTE, T0 + (first + length) * MINUTE)
    out, stream = run(values, selection, envelopes, 3_600_000 if envelopes else MINUTE)
    expected: dict[str, list[int | None]] = defaultdict(list)
    clock = None
    for v in values:
        if v is None:
            if selection.from_ms <= (clock if clock is not None else T0) < selection.to_ms:
                expected[STATIONS[0]].append(None)
            continue
        ts = T0 + v[1] * MINUTE
        if selection.from_ms <= ts < selection.to_ms:
            expected[STATIONS[v[0]]].append(ts)
            clock = ts
    assert decoded(out) == {k: v for k, v in expected.items() if v}
    assert stream.position == len(values)
    if not envelopes:
        assert all(m.readings <= 1 for m in out)


def test_envelopes_split_where_time_does_not_increase_and_around_rejects() -> None:
    values = [(0, 1), (0, 2), (0, 2), (0, 3), None, (0, 4), (1, 1)]
    out, _ = run(values, Selection(T0, T0 + 3_600_000), True, 3_600_000)
    assert [(m.key.decode(), m.readings) for m in out] == [
        (STATIONS[0], 2),  # 1, 2
        (STATIONS[0], 2),  # 2 again (a duplicate the agents reject), 3
        (STATIONS[0], 0),  # the malformed message, after the readings before it
        (STATIONS[0], 1),  # 4
        (STATIONS[1], 1),
    ]


def test_stations_filter() -> None:
    values = [(0, 1), (1, 1), (2, 1), (1, 2)]
    selection = Selection(T0, T0 + 3_600_000, frozenset({STATIONS[1]}))
    out, _ = run(values, selection, True, 3_600_000)
    assert decoded(out) == {STATIONS[1]: [T0 + MINUTE, T0 + 2 * MINUTE]}
