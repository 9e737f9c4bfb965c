"""Messages -> points: measurement, tags, fields and event-time timestamps per message kind, and
the routes that pick the converter and the retention by topic."""

from __future__ import annotations

import re
from collections import Counter

import msgspec
import msgspec.inspect
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.messages import DeadLetter, Reject, RejectReason, dead_letter_from
from pipeline.messages.limits import AIR_LIMITS, WATER_LIMITS, Limit
from pipeline.messages.readings import AirValues, Reading, Values, WaterValues
from pipeline.registry import Registry
from pipeline.sinks import points
from pipeline.sinks.lineprotocol import LineProtocolError, encode
from pipeline.sinks.points import NS_PER_MS, Target, Unconvertible, routes
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m
from tests.unit.test_lineprotocol import parse

TOPICS = Topics("t")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def test_aqi_point() -> None:
    name, tags, fields, ts = parse(points.aqi(m.aqi(3, m.ODD_ID, m.ODD_NAME)))
    assert name == "air_aqi"
    assert tags == {"scope": "station", "subject": m.ODD_ID, "district": "futian", "report": "hour"}
    assert ts == (m.BASE_MS + 3 * m.MINUTE_MS) * NS_PER_MS
    assert fields["name_zh"] == m.ODD_NAME
    assert (fields["aqi"], fields["level"], fields["iaqi_pm25"]) == (57, 2, 57)
    assert (fields["pm25"], fields["primary"], fields["exceeding"]) == (40.0, "pm25", "")


@given(
    st.text(st.characters(blacklist_categories=("Cs",))),
    st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=3)),
    st.dictionaries(st.sampled_from(["pm25", "o3", "co x"]), st.floats(-1e9, 1e9)),
)
def test_aqi_fast_path_writes_what_the_generic_encoder_writes(
    text: str, primary: list[str], concentrations: dict[str, float]
) -> None:
    """``aqi`` formats its fixed fields itself; any string must come out as ``encode`` has it."""
    msg = msgspec.structs.replace(
        m.aqi(1), name_zh=text, color=text, primary=primary, concentrations=concentrations
    )
    fields = {
        "aqi": msg.aqi,
        "level": msg.level,
        "category_zh": msg.category_zh,
        "category_en": msg.category_en,
        "color": text,
        "primary": ",".join(primary),
        "exceeding": "",
        "standard": msg.standard,
        "period": msg.period_label,
        "valid_stations": 1,
        "name_zh": text,
        "name_en": msg.name_en,
        "iaqi_pm25": 57,
        "iaqi_pm10": 40,
        **concentrations,
    }
    tags = {"scope": "station", "subject": "3305A", "district": "futian", "report": "hour"}
    assert points.aqi(msg) == encode("air_aqi", tags, fields, msg.period_start_ms * NS_PER_MS)


def test_city_aqi_has_no_district_tag() -> None:
    message = msgspec.structs.replace(m.aqi(0), scope="city", subject="shenzhen", district=None)
    assert parse(points.aqi(message))[1] == {
        "scope": "city",
        "subject": "shenzhen",
        "report": "hour",
    }


def test_water_quality_point() -> None:
    name, tags, fields, _ = parse(points.water_quality(m.water_quality(0)))
    assert name == "water_quality"
    assert tags == {"station": "szh-hekou", "district": "futian", "river": "shenzhen"}
    assert fields["water_class"] == "劣V" and fields["class_num"] == 6
    assert (fields["class_nh3n"], fields["nh3n"], fields["failing"]) == ("劣V", 3.1, "nh3n")


def test_ranking_is_one_point_per_entry() -> None:
    lines = [parse(line) for line in points.ranking(m.ranking(0))]
    assert [(t["board"], t["subject"], f["rank"]) for _, t, f, _ in lines] == [
        ("district_aqi_hour", "futian", 1),
        ("district_aqi_hour", "luohu", 2),
    ]
    assert "rank_change" not in lines[1][2]  # unranked before: no field, not a fake number


def test_alert_point() -> None:
    name, tags, fields, ts = parse(points.alert(m.alert(2)))
    assert name == "alert"
    assert tags == {
        "rule": "pm25_high",
        "severity": "warning",
        "scope": "station",
        "subject": "3305A",
        "district": "futian",
    }
    assert (fields["state"], fields["active"], fields["value"]) == ("firing", 1, 120.5)
    assert fields["message_zh"] == "莲花站 PM2.5 超标\n请关注"
    assert "ended_ms" not in fields
    assert ts == (m.BASE_MS + 2 * m.MINUTE_MS) * NS_PER_MS


def letter(offset: int, partition: int = 0, topic: str = "t.air.readings") -> DeadLetter:
    reject = Reject(RejectReason.LATE, "ts", "after the grace period")
    return dead_letter_from(reject, b"{}", topic, partition, offset, b"3305A", m.BASE_MS)


def test_dead_letters_of_one_millisecond_stay_apart() -> None:
    parsed = [parse(points.dead_letter(letter(o, p))) for o in (0, 1, 999) for p in (0, 1)]
    assert len({(tuple(t.items()), ts) for _, t, _, ts in parsed}) == 6
    assert {t["reason"] for _, t, _, _ in parsed} == {"late"}
    assert all(f["count"] == 1 for _, _, f, _ in parsed)


def test_file_feed_dead_letters_share_one_source_tag() -> None:
    _, tags, fields, _ = parse(points.dead_letter(letter(7, -1, "file:/data/feed.csv")))
    assert tags == {"reason": "late", "source": "file"}
    assert fields["source_topic"] == "file:/data/feed.csv"


def test_readings_go_raw_with_tags_from_the_registry(registry: Registry) -> None:
    table = routes(TOPICS, registry, Counter())
    air, water = table[TOPICS.air_readings], table[TOPICS.water_readings]
    assert air.target is water.target is Target.RAW
    name, tags, fields, _ = parse(air.convert(m.air_reading(0))[0])
    assert (name, tags) == ("air_reading", {"station": "3305A", "district": "futian"})
    assert fields == {"pm25": 35.0, "pm10": 50.0, "no2": 20.0, "interval_s": 3600, "pm25_flag": "N"}
    name, tags, _, _ = parse(water.convert(m.water_reading(0))[0])
    assert (name, tags["river"]) == ("water_reading", "shenzhen")


def _values(limits: dict[str, Limit]) -> st.SearchStrategy[dict[str, float | None]]:
    return st.fixed_dictionaries(
        {key: st.none() | st.floats(limit.low, limit.high) for key, limit in limits.items()}
    )


@given(
    st.sampled_from([(AirValues, AIR_LIMITS), (WaterValues, WATER_LIMITS)]).flatmap(
        lambda kind: st.tuples(st.just(kind[0]), _values(kind[1]))
    ),
    st.dictionaries(st.text(st.characters(blacklist_categories=("Cs", "Cc"))), st.text()),
    st.integers(1, 86_400),
)
def test_reading_fast_path_writes_what_the_generic_encoder_writes(
    kind_values: tuple[type[Values], dict[str, float | None]],
    flags: dict[str, str],
    interval_s: int,
) -> None:
    """``reading`` formats values itself; every point must come out as ``encode`` has it (or
    be refused alike, e.g. a flag key line protocol cannot carry)."""
    values_type, values = kind_values
    item = Reading("3305A", m.BASE_MS, interval_s, values_type(**values), flags)
    fields = {
        **msgspec.structs.asdict(item.values),  # in the schema's order
        "interval_s": interval_s,
        **{f"{k}_flag": f for k, f in flags.items()},
    }
    try:
        expected = encode("air_reading", {"station": "3305A"}, fields, m.BASE_MS * NS_PER_MS)
    except LineProtocolError:
        with pytest.raises(LineProtocolError):
            points.reading("air_reading,station=3305A", item)
        return
    fast = parse(points.reading("air_reading,station=3305A", item))
    assert fast == parse(expected)
    assert list(fast[2]) == list(parse(expected)[2])  # fields in the same order


@pytest.mark.parametrize("values_type", [AirValues, WaterValues])
def test_values_structs_meet_what_float_field_set_needs(values_type: type[Values]) -> None:
    """Names need no escaping, values are bounded floats or None, None is left out."""
    info = msgspec.inspect.type_info(values_type)
    assert isinstance(info, msgspec.inspect.StructType)
    assert values_type.__struct_config__.omit_defaults
    for field in info.fields:
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", field.encode_name)
        assert field.default is None
        floats = [t for t in field.type.types if not isinstance(t, msgspec.inspect.NoneType)]
        assert len(floats) == 1 and isinstance(floats[0], msgspec.inspect.FloatType)
        assert floats[0].ge is not None and floats[0].le is not None


def test_rejected_readings_are_left_to_the_agents(registry: Registry) -> None:
    convert = routes(TOPICS, registry, Counter())[TOPICS.air_readings].convert
    with pytest.raises(Unconvertible) as caught:
        convert(m.air_reading(0, station="nope"))
    assert caught.value.reject.reason is RejectReason.UNKNOWN_STATION
    assert caught.value.dead_letter is False


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"{not json", RejectReason.MALFORMED_JSON), (b'{"v": 1}', RejectReason.WRONG_TYPE)],
)
def test_bad_results_are_dead_lettered(registry: Registry, raw: bytes, reason: str) -> None:
    with pytest.raises(Unconvertible) as caught:
        routes(TOPICS, registry, Counter())[TOPICS.air_aqi].convert(raw)
    assert caught.value.reject.reason is reason
    assert caught.value.dead_letter is True


def test_unrepresentable_results_are_dead_lettered(registry: Registry) -> None:
    raw = m.encode(m.aqi(0, subject="back\\slash"))
    with pytest.raises(Unconvertible) as caught:
        routes(TOPICS, registry, Counter())[TOPICS.air_aqi].convert(raw)
    assert caught.value.reject.reason is RejectReason.INFLUX_REJECTED


def test_dead_letters_are_counted_by_reason_and_never_dead_lettered(registry: Registry) -> None:
    seen: Counter[str] = Counter()
    convert = routes(TOPICS, registry, seen)[TOPICS.deadletter].convert
    convert(msgspec.json.encode(letter(1)))
    convert(msgspec.json.encode(letter(2)))
    assert seen == {"late": 2}
    with pytest.raises(Unconvertible) as caught:
        convert(b"garbage")
    assert caught.value.dead_letter is False


def test_every_result_topic_is_routed(registry: Registry) -> None:
    table = routes(TOPICS, registry, Counter())
    results = {TOPICS.air_aqi, TOPICS.water_quality, TOPICS.rankings, TOPICS.alerts}
    assert results | {TOPICS.deadletter} <= set(table)
    assert all(table[topic].target is Target.RESULTS for topic in results)


def test_a_rewrite_is_the_same_point() -> None:
    assert points.aqi(m.aqi(5)) == points.aqi(m.aqi(5))
