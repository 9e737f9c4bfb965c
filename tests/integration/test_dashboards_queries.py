"""Every panel's query against what a real pipeline run wrote to InfluxDB.

One scripted run for the module: ``tests.fixtures.worker.CityScenario`` (six air stations in three
districts, minute readings over twelve hours, a PM2.5 episode in Nanshan that fires and resolves
alerts), with NO2 of one station device-flagged for a while (QC flags), plus two river sections
reporting hourly (one worse than its target, with an NH3-N episode above class V) and a reading
the next day that closes the day (CWQI board), and two malformed records (dead letters). The
real Tansu broker, an ``envmon worker`` subprocess and an ``envmon sink`` subprocess write into
Debian's InfluxDB 1.x; ``envmon dashboards sites`` data are written as the command does. An
``envmon notify`` subprocess with the stack's log-channel subscriber (plus reminders) delivers the
scenario's alerts and writes its ``notifier`` measurement there, and an operator acknowledges the
still-firing water-class alert with ``envmon alerts ack`` (the sink writes it as ``alert_ack``).

Each panel query is then run as Grafana would send it: ``$timeFilter`` and ``$__interval``
replaced the way Grafana's InfluxDB data source does, template variables set to a value their
own variable query returned. The checks are on shapes: one row per district in the ranking, the
scenario's stations in the station variable, the hours of the episode in the IAQI series.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from dashboards.build import render
from dashboards.context import Context
from dashboards.sites import write_sites
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.producer import open_producer
from pipeline.messages import WaterReading, WaterValues, encode_reading
from pipeline.registry import Registry
from pipeline.settings import Settings, load_settings
from pipeline.topics import Topics
from tests.fixtures.notify_process import NotifierProcess
from tests.fixtures.servers import InfluxDB, TansuBroker, free_port
from tests.fixtures.sink_process import ENVMON, SinkProcess, v1_settings, wait_for
from tests.fixtures.worker import (
    DISTRICTS,
    HOUR_MS,
    START_MS,
    WIGGLE,
    CityScenario,
    WorkerProcess,
)

pytestmark = pytest.mark.integration

RIVERS = """
rivers:
  - id: testriver
    name_zh: 测试河
    name_en: Test River
    sections:
      - {id: W1, name_zh: 上游断面, name_en: Upstream, district: nanshan, target: III,
         lat: 22.60, lon: 113.95}
      - {id: W2, name_zh: 下游断面, name_en: Downstream, district: yantian, target: III,
         lat: 22.58, lon: 114.22}
"""
SECTIONS = ("W1", "W2")
STATIONS = CityScenario.stations
FLAGGED = ("S2", range(120, 130))  # NO2 of S2 device-flagged (HJ 212 "D") minutes 02:00-02:09
RANGE_SCENARIO = (START_MS, START_MS + 13 * HOUR_MS)
# Measurements written at the time of the run, not at the scenario's: panels on them show the last
# hour (the pipeline-health board, all of whose measurements are such, always does)
WALL_CLOCK = ('FROM "alert_ack"',)
# The stack's subscriptions (pipeline/stack/log_subscriptions.yaml) with reminders: deliveries
# go on after the scenario's transitions until the still-firing alert is acknowledged.
SUBSCRIPTIONS = """schema_version: 1
subscribers:
  - name: log
    language: en
    repeat_every: 1s
    channel: {type: log}
"""
ACKED_RULE, ACKED_BY = "water_class", "王工"  # W2's alert, acknowledged by an operator


def water(section: str, hour: int) -> WaterValues:
    """W1 stays class II; W2 is class IV (NH3-N 1.2 > III's 1.0) with NH3-N at 2.5 (劣V) in
    hours 04-06."""
    if section == "W1":
        return WaterValues(ph=7.4, do=7.0, codmn=3.0, nh3n=0.3, tp=0.05)
    nh3n = 2.5 if 4 <= hour <= 6 else 1.2
    return WaterValues(ph=7.1, do=5.5, codmn=5.0, nh3n=nh3n, tp=0.15)


def air_records(scenario: CityScenario) -> Iterator[tuple[bytes, bytes]]:
    """The scenario's readings with CO (0.6-1.0 mg/m³, IAQI < 10: the AQI stays as computed by
    hand) and NO2 of one station device-flagged for ten minutes."""
    station, minutes = FLAGGED
    for n, (key, value) in enumerate(scenario.records(0, scenario.minutes)):
        minute = n // len(STATIONS)
        message = msgspec.json.decode(value)
        message["values"]["co"] = 0.8 + WIGGLE[minute % 5] / 5
        if key.decode() == station and minute in minutes:
            message["flags"] = {"no2": "D"}
        yield key, msgspec.json.encode(message)


@dataclass
class Run:
    influx: InfluxDB
    db: str
    namespace: str
    acked: str = ""  # the id of the acknowledged alert

    def query(self, q: str) -> dict[str, Any]:
        result = self.influx.query(q, self.db)["results"][0]
        assert "error" not in result, f"{q}: {result['error']}"
        return result

    def series(self, q: str) -> list[dict[str, Any]]:
        return self.query(q).get("series", [])


def _count(run: Run, q: str) -> int:
    series = run.series(q)
    return int(series[0]["values"][0][1]) if series else 0


@pytest.fixture(scope="module")
def run(
    broker: TansuBroker, influxdb: InfluxDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("dashboards")
    namespace = f"d{int(time.time() * 1000) % 10**8}"
    settings = load_settings(
        env={}, kafka_bootstrap=broker.bootstrap, namespace=namespace, partitions=3
    )
    ensure_topics(settings, namespace)
    topics = Topics(namespace)
    scenario = CityScenario(workdir)
    with open(scenario.registry_file, "a", encoding="utf-8") as registry_file:
        registry_file.write(RIVERS)
    aimed = v1_settings(settings, influxdb)
    write_sites(aimed, Registry.load(scenario.registry_file))
    sink = SinkProcess(aimed, workdir)
    notifier = NotifierProcess(aimed, workdir, SUBSCRIPTIONS)
    for process in (sink, notifier):
        process.env["ENVMON_REGISTRY_FILE"] = str(scenario.registry_file)
    with (
        WorkerProcess(settings, workdir, registry_file=scenario.registry_file) as worker,
        sink,
        notifier,
    ):
        worker.wait_ready()
        _produce(settings, topics, scenario)
        result = Run(influxdb, aimed.influx_database, namespace)
        _wait_for_results(result, worker)
        # the dead letters, and a reminder, come in a later 10-s bucket, so the sink's read rate
        # and the notifier's deliveries show them
        time.sleep(10.5 - time.time() % 10)
        _produce_rejects(settings, topics)
        result.acked = _acknowledge(result, notifier)
        _wait_for(result, worker, "dead letters", 'SELECT count("count") FROM "deadletter"', 2)
        _wait_for(result, worker, "the acknowledgement", 'SELECT count("by") FROM "alert_ack"', 1)
        time.sleep(3)  # a few `pipeline` reports (every second in tests) after the last write
        yield result


def _acknowledge(run: Run, notifier: NotifierProcess) -> str:
    """``envmon alerts ack`` of W2's water-class alert once the notifier has read every alert
    transition (so the command finds its rule and severity in the outbox) and delivered one more
    reminder of it; the alert's id."""
    alert_id = one_value(
        run.series(
            f"""SELECT last("alert_id") FROM "alert"
            WHERE "rule" = '{ACKED_RULE}' AND "subject" = 'W2'"""
        )
    )
    transitions = _count(run, 'SELECT count("state") FROM "alert"')
    health = wait_for(
        lambda: notifier.health() or {"events_read": 0},
        lambda h: h["events_read"] >= transitions,
        30,
        f"the notifier reads {transitions} alert transitions; log:\n{notifier.log_tail(15)}",
    )
    wait_for(
        lambda: (notifier.health() or health)["delivered"],
        lambda n: n > health["delivered"],
        10,
        f"a reminder; log:\n{notifier.log_tail(15)}",
    )
    done = notifier.cli("alerts", "ack", alert_id, "--by", ACKED_BY, "--note", "已派人")
    assert done.returncode == 0, done.stderr
    return str(alert_id)


def _produce(settings: Settings, topics: Topics, scenario: CityScenario) -> None:
    with open_producer(settings) as producer:
        for key, value in air_records(scenario):
            producer.send(topics.air_readings, key, value)
        for hour in [*range(12), 24]:  # the reading at 24:00 closes the day: CWQI board
            for section in SECTIONS:
                reading = WaterReading(
                    section, START_MS + hour * HOUR_MS, 3600, water(section, hour)
                )
                producer.send(topics.water_readings, section.encode(), encode_reading(reading))


def _produce_rejects(settings: Settings, topics: Topics) -> None:
    with open_producer(settings) as producer:
        producer.send(topics.air_readings, b"S1", b'{"v": 1, "station": "S1", "ts": ')
        producer.send(topics.water_readings, b"W1", b"not json")


def _wait_for_results(run: Run, worker: WorkerProcess) -> None:
    checks = {
        "district hours": (
            """SELECT count("aqi") FROM "air_aqi" WHERE "scope" = 'district'""",
            11 * len(DISTRICTS),
        ),
        "CWQI board": (
            """SELECT count("rank") FROM "ranking" WHERE "board" = 'section_cwqi_mtd'""",
            len(SECTIONS),
        ),
        "resolved alerts": ("""SELECT count("state") FROM "alert" WHERE "state" = 'resolved'""", 3),
    }
    for what, (q, expected) in checks.items():
        _wait_for(run, worker, what, q, expected)


def _wait_for(run: Run, worker: WorkerProcess, what: str, q: str, expected: int) -> None:
    wait_for(
        lambda: _count(run, q),
        lambda n: n >= expected,
        90,
        f"{what} in InfluxDB; worker log:\n{worker.log_tail(15)}",
    )


# --- Grafana's substitutions ------------------------------------------------------------------

NICE_INTERVALS_S = (1, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800)


def interval(range_ms: tuple[int, int], max_points: int = 1000, min_s: int = 10) -> str:
    """``$__interval``: the range over the panel's data points, rounded up to a round interval,
    at least the data source's minimum (``timeInterval`` 10s)."""
    raw = (range_ms[1] - range_ms[0]) / 1000 / max_points
    seconds = next((n for n in NICE_INTERVALS_S if n >= max(raw, min_s)), 21600)
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def substitute(query: str, range_ms: tuple[int, int], variables: dict[str, str]) -> str:
    """A panel query as Grafana's InfluxDB data source sends it."""
    query = query.replace("$timeFilter", f"time >= {range_ms[0]}ms and time <= {range_ms[1]}ms")
    query = query.replace("$__interval", interval(range_ms))
    for name, value in variables.items():  # single-value variables are inserted as they are
        query = re.sub(rf"\${name}\b", value, query)
    assert not re.search(r"\$\w", query), f"unsubstituted macro in {query}"
    return query


# --- expectations per panel -------------------------------------------------------------------

Result = list[dict[str, Any]]  # the series of one target


class Results(dict[str, Result]):
    """A panel's series by target refId, with the run they came from."""

    def __init__(self, run: Run, series: dict[str, Result]) -> None:
        super().__init__(series)
        self.run = run


Check = Callable[[Results], None]


def rows(series: Result) -> list[dict[str, Any]]:
    """Table rows, the series' tags as columns."""
    return [
        dict(zip(s["columns"], values, strict=True)) | s.get("tags", {})
        for s in series
        for values in s["values"]
    ]


def tags(series: Result, key: str) -> set[str]:
    return {s["tags"][key] for s in series}


def non_null(series: Result, column: str) -> list[Any]:
    return [
        v[s["columns"].index(column)]
        for s in series
        for v in s["values"]
        if v[s["columns"].index(column)] is not None
    ]


def one_value(series: Result) -> Any:
    (row,) = rows(series)
    return next(v for k, v in row.items() if k != "time")


def check_station_map(r: dict[str, Result]) -> None:
    results = {row["subject"]: row for row in rows(r["A"])}
    sites = {row["station"]: row for row in rows(r["B"])}
    assert set(results) == set(STATIONS) <= set(sites)  # every marker joins to a position
    assert all(row["aqi"] is not None and row["name"] for row in results.values())
    assert sites["S1"]["lat"] == pytest.approx(22.52)


def check_district_ranking(r: dict[str, Result]) -> None:
    table = rows(r["A"])
    assert sorted(row["subject"] for row in table) == sorted(DISTRICTS)  # one row per district
    assert sorted(row["rank"] for row in table) == [1, 2, 3]
    assert all(row["rank_change"] is not None for row in table)


def check_active_alerts(r: dict[str, Result]) -> None:
    table = rows(r["A"])
    active = {(row["rule"], row["subject"]) for row in table if row["active"] == 1}
    # the PM2.5 episode resolved; the downstream section stays worse than its target
    assert ("water_class", "W2") in active
    assert not any(rule == "pm25_hourly" for rule, _ in active)
    assert ("pm25_hourly", "S1") in {(row["rule"], row["subject"]) for row in table}


def check_section_map(r: dict[str, Result]) -> None:
    classes = {row["station"]: row for row in rows(r["A"])}
    assert set(classes) == set(SECTIONS) <= {row["station"] for row in rows(r["B"])}
    assert classes["W1"]["class"] == "II" and classes["W2"]["class"] == "IV"


def check_class_vs_target(r: dict[str, Result]) -> None:
    classes = {row["station"]: row["class_num"] for row in rows(r["A"])}
    targets = {row["station"]: row["target_num"] for row in rows(r["B"])}
    assert {s: classes[s] - targets[s] for s in SECTIONS} == {"W1": -1, "W2": 1}


def check_nh3n(r: dict[str, Result]) -> None:  # section W2
    values = non_null(r["A"], "nh3n")
    assert len(values) == 12 and max(values) == 2.5 and min(values) == 1.2


def check_cwqi(r: dict[str, Result]) -> None:
    table = {row["subject"]: row for row in rows(r["A"])}
    assert set(table) == set(SECTIONS) and table["W1"]["rank"] == 1 and table["W2"]["rank"] == 2


def check_exceedances(r: dict[str, Result]) -> None:  # section W2: every reading of day 1
    table = rows(r["A"])
    assert len(table) == 12 and {row["failing"] for row in table} == {"nh3n"}


def check_timeline(r: dict[str, Result]) -> None:
    pairs = {(s["tags"]["rule"], s["tags"]["subject"]) for s in r["A"]}
    assert {("pm25_hourly", s) for s in ("S1", "S2", "nanshan")} <= pairs
    states = set(non_null(r["A"], "last"))
    assert {"firing", "resolved"} <= states


def counts_by(key: str, expected: dict[str, int]) -> Check:
    def check(r: dict[str, Result]) -> None:
        got = {s["tags"][key]: s["values"][0][1] for s in r["A"]}
        assert {k: got.get(k) for k in expected} == expected, got

    return check


def check_mean_resolve(r: dict[str, Result]) -> None:
    # PM2.5 at S1, S2, Nanshan 4 h each (03:00 -> 07:00); NH3-N above class V 3 h (04:00 ->
    # 07:00), its sudden rise 1 h; the QC anomaly of S2 11 min (02:05 -> 02:16)
    assert one_value(r["A"]) == pytest.approx((3 * 4 * 3600 + 3 * 3600 + 3600 + 660) / 6)


def check_resolve_table(r: dict[str, Result]) -> None:
    table = rows(r["A"])
    assert {row["subject"] for row in table} >= {"S1", "S2", "nanshan"}
    assert {row["duration_s"] for row in table if row["rule"] == "pm25_hourly"} == {4 * 3600}


def series_with(*columns: str, count: int | None = None) -> Check:
    def check(r: dict[str, Result]) -> None:
        for column in columns:
            values = non_null(r["A"], column)
            assert values, f"no {column} values"
            assert count is None or len(values) == count, (column, len(values))

    return check


def check_co(r: dict[str, Result]) -> None:
    readings, hours = non_null(r["A"], "CO"), non_null(r["B"], "CO 1h")
    assert len(hours) == 11 and all(0.6 <= v <= 1.0 for v in readings + hours)
    assert len(readings) > 11  # finer than hours


def check_qc_series(r: dict[str, Result]) -> None:
    assert ("no2", "device") in {(s["tags"]["parameter"], s["tags"]["flag"]) for s in r["A"]}


def check_qc_table(r: dict[str, Result]) -> None:
    assert {(row["parameter"], row["flag"]) for row in rows(r["A"])} == {("no2", "device")}


def check_sink_rate(r: dict[str, Result]) -> None:
    assert max(non_null(r["A"], "read")) > 0


def check_lag(r: dict[str, Result]) -> None:
    groups = tags(r["A"], "group")
    assert any(g.startswith("envmon-sink-") for g in groups), groups


def check_dead_letters(r: dict[str, Result]) -> None:
    reasons = tags(r["A"], "reason")
    assert "malformed_json" in reasons, reasons


def check_latency(r: dict[str, Result]) -> None:
    assert max(non_null(r["A"], "max")) > 0


def check_paused(r: dict[str, Result]) -> None:
    assert one_value(r["A"]) == 0


def check_outages(r: dict[str, Result]) -> None:
    assert one_value(r["A"]) == 0


def check_deliveries(r: dict[str, Result]) -> None:
    # the scenario's transitions, then reminders of W2's alert until it is acknowledged
    assert tags(r["A"], "channel") == {"log"}, r["A"]
    assert sum(non_null(r["A"], "delivered")) > 0 and sum(non_null(r["A"], "failed")) == 0


def check_pending(r: dict[str, Result]) -> None:
    (series,) = r["A"]
    assert series["tags"]["channel"] == "log" and non_null(r["A"], "pending")[-1] == 0


def check_acks_table(r: Results) -> None:
    (row,) = rows(r["A"])
    assert (row["alert_id"], row["by"], row["note"]) == (r.run.acked, ACKED_BY, "已派人")
    assert row["rule"] == ACKED_RULE and row["severity"]


# City, hour 10:00 (the last closed one): mean PM2.5 (40 + 20 + 50) / 3 -> 37 -> IAQI 54, mean
# PM10 55 -> IAQI 53.6 -> 54, a tie, so both are primary (HJ 633-2026, 1-h PM on the daily rows).
# Station S2 at 10:00: PM2.5 40 -> IAQI 60 (level 2), PM10 60 -> 58.
# (dashboard uid, English panel title) -> check
EXPECTED: dict[tuple[str, str], Check] = {
    ("envmon-overview", "Stations by AQI level"): check_station_map,
    ("envmon-overview", "City AQI"): lambda r: assert_equal(one_value(r["A"]), 54),
    ("envmon-overview", "AQI level"): lambda r: assert_equal(one_value(r["A"]), 2),
    ("envmon-overview", "Primary pollutant"): lambda r: assert_equal(
        one_value(r["A"]), "pm10,pm25"
    ),
    ("envmon-overview", "District ranking (hourly AQI)"): check_district_ranking,
    ("envmon-overview", "AQI by district"): lambda r: assert_equal(
        tags(r["A"], "subject"), set(DISTRICTS)
    ),
    ("envmon-overview", "Active alerts"): check_active_alerts,
    ("envmon-air-station", "Hourly AQI"): lambda r: assert_equal(one_value(r["A"]), 60),
    ("envmon-air-station", "AQI level"): lambda r: assert_equal(one_value(r["A"]), 2),
    ("envmon-air-station", "Primary pollutant"): lambda r: assert_equal(one_value(r["A"]), "pm25"),
    ("envmon-air-station", "AQI and IAQI per pollutant"): series_with(
        "AQI", "PM2.5", "PM10", "NO2", count=11
    ),
    ("envmon-air-station", "Concentrations (readings)"): series_with("PM2.5", "PM10", "NO2"),
    # the 24-h moving means need 20 valid hours (GB 3095), more than the scenario's 12
    ("envmon-air-station", "Hourly means, 8-h and 24-h averages"): series_with(
        "PM2.5", "PM10", "NO2", count=11
    ),
    ("envmon-air-station", "CO"): check_co,
    ("envmon-air-station", "QC flags"): check_qc_series,
    ("envmon-air-station", "Latest QC-flagged readings"): check_qc_table,
    ("envmon-rivers", "Sections by water class"): check_section_map,
    ("envmon-rivers", "Class vs target"): check_class_vs_target,
    ("envmon-rivers", "Dissolved oxygen (W2)"): lambda r: assert_equal(
        len(non_null(r["A"], "do")), 12
    ),
    ("envmon-rivers", "Permanganate index (W2)"): lambda r: assert_equal(
        len(non_null(r["A"], "codmn")), 12
    ),
    ("envmon-rivers", "Ammonia nitrogen (W2)"): check_nh3n,
    ("envmon-rivers", "Total phosphorus (W2)"): lambda r: assert_equal(
        len(non_null(r["A"], "tp")), 12
    ),
    ("envmon-rivers", "pH (W2)"): lambda r: assert_equal(len(non_null(r["A"], "ph")), 12),
    ("envmon-rivers", "Sections by CWQI (month to date)"): check_cwqi,
    ("envmon-rivers", "Exceedance history"): check_exceedances,
    ("envmon-alerts", "Alert states over time"): check_timeline,
    ("envmon-alerts", "New alerts by rule"): counts_by("rule", {"pm25_hourly": 3}),
    ("envmon-alerts", "New alerts by severity"): counts_by(
        "severity", {"warning": 4, "info": 1, "critical": 2}
    ),
    ("envmon-alerts", "New alerts by district"): counts_by(
        "district", {"nanshan": 4, "yantian": 3}
    ),
    ("envmon-alerts", "Mean time to resolve"): check_mean_resolve,
    ("envmon-alerts", "Time to resolve per alert"): check_resolve_table,
    ("envmon-alerts", "Acknowledgements by rule"): counts_by("rule", {ACKED_RULE: 1}),
    ("envmon-alerts", "Acknowledgements"): check_acks_table,
    ("envmon-pipeline", "Records read per second"): check_sink_rate,
    ("envmon-pipeline", "Consumer lag"): check_lag,
    ("envmon-pipeline", "Dead letters by reason"): check_dead_letters,
    ("envmon-pipeline", "Dead letters in range"): check_dead_letters,
    ("envmon-pipeline", "Sink write latency"): check_latency,
    ("envmon-pipeline", "Sink paused"): check_paused,
    ("envmon-pipeline", "InfluxDB outages"): check_outages,
    ("envmon-pipeline", "Notifier deliveries"): check_deliveries,
    ("envmon-pipeline", "Notifications pending"): check_pending,
}


def assert_equal(got: Any, want: Any) -> None:
    assert got == want


DASHBOARDS = render(Context.of("en", Registry.load()))
PANELS = [
    (uid, panel) for uid, d in DASHBOARDS.items() for panel in d["panels"] if panel["type"] != "row"
]


def test_every_panel_has_an_expectation() -> None:
    titles = {(uid, panel["title"].replace("$section", "W2")) for uid, panel in PANELS}
    assert titles == set(EXPECTED), (
        f"missing {titles - set(EXPECTED)}, extra {set(EXPECTED) - titles}"
    )


def variable_values(run: Run, uid: str, range_ms: tuple[int, int]) -> dict[str, list[str]]:
    """Each variable's options: its own query run as Grafana does."""
    values = {}
    for variable in DASHBOARDS[uid].get("templating", {}).get("list", []):
        series = run.series(substitute(variable["query"], range_ms, {}))
        values[variable["name"]] = sorted(
            v[1] if len(v) > 1 else v[0] for s in series for v in s["values"]
        )
    return values


def test_variables_list_the_scenarios_subjects(run: Run) -> None:
    assert variable_values(run, "envmon-air-station", RANGE_SCENARIO) == {
        "station": sorted(STATIONS)
    }
    assert variable_values(run, "envmon-rivers", RANGE_SCENARIO) == {"section": list(SECTIONS)}
    now = int(time.time() * 1000)
    namespaces = variable_values(run, "envmon-pipeline", (now - 3_600_000, now))["namespace"]
    assert run.namespace in namespaces


@pytest.mark.parametrize(("uid", "panel"), PANELS, ids=[f"{uid}:{p['title']}" for uid, p in PANELS])
def test_panel_query_returns_what_the_panel_shows(
    run: Run, uid: str, panel: dict[str, Any]
) -> None:
    now = int(time.time() * 1000)
    queries = [target["query"] for target in panel["targets"]]
    live = uid == "envmon-pipeline" or any(m in q for m in WALL_CLOCK for q in queries)
    range_ms = (now - 3_600_000, now + 60_000) if live else RANGE_SCENARIO
    variables = {"station": "S2", "section": "W2", "namespace": run.namespace}
    results = Results(
        run,
        {
            target["refId"]: run.series(substitute(target["query"], range_ms, variables))
            for target in panel["targets"]
        },
    )
    EXPECTED[(uid, panel["title"].replace("$section", "W2"))](results)


def test_sites_command_writes_the_registry_idempotently(
    influxdb: InfluxDB, broker: TansuBroker
) -> None:
    database = f"sites{int(time.time() * 1000) % 10**8}"
    settings = v1_settings(
        load_settings(env={}, kafka_bootstrap=broker.bootstrap, namespace=database), influxdb
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")} | {
        "ENVMON_INFLUX_URL": influxdb.url,
        "ENVMON_INFLUX_API": "v1",
        "ENVMON_INFLUX_DATABASE": settings.influx_database,
    }
    registry = Registry.load()
    for _ in range(2):
        done = subprocess.run(
            [ENVMON, "dashboards", "sites"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"site: {len(registry.stations)} points written"
    run = Run(influxdb, settings.influx_database, database)
    by_kind = {
        s["tags"]["kind"]: s["values"][0][1]
        for s in run.series('SELECT count("lat") FROM "site" GROUP BY "kind"')
    }
    assert by_kind == {"air": 15, "water": 7}  # written twice, stored once
    down = subprocess.run(
        [ENVMON, "dashboards", "sites"],
        env=env | {"ENVMON_INFLUX_URL": f"http://127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 1 and "error: InfluxDB at" in down.stderr
    assert "Traceback" not in down.stderr
