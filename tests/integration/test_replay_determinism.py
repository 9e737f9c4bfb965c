"""Determinism and what-if: a scaled-down day of a city (``CityScenario``: six stations, twelve
hours of minute readings, a PM2.5 episode in Nanshan) goes into a live namespace whose readings
are archived; it is replayed at max speed from Kafka and from the archive into two replay
namespaces, and once more from Kafka for a worker with a lower PM2.5 threshold. ``envmon replay
diff`` must find no difference between the live results and the two replays' (AQI, rankings,
alert transitions), and exactly the what-if run's extra alerts."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from pipeline.settings import Settings
from pipeline.timeutil import HOUR_MS, label
from tests.fixtures.replay import ArchiveProcess, envmon
from tests.fixtures.worker import (
    EXPECTED_ALERTS,
    PARTITIONS,
    START_MS,
    CityScenario,
    Expected,
    TopicTail,
    WorkerProcess,
    describe_results,
    has_alerts,
    has_aqi_keys,
    wait_all,
)
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
FROM, TO = label(START_MS, TZ), label(START_MS + 12 * HOUR_MS, TZ)
# what-if: PM2.5 alert at 45 (reset 42): Yantian (50) fires too, at 01:00, and never resolves;
# Nanshan's transitions keep their ids (same start and end) but carry the new threshold
WHAT_IF_EXTRA = {Expected("pm25_hourly", s, "firing", 1) for s in ("S7", "S8", "yantian")}


def what_if_rules(path: Path) -> Path:
    shipped = Path(__file__).parents[2] / "streams" / "alerts" / "default_rules.yaml"
    doc = yaml.safe_load(shipped.read_text("utf-8"))
    pm25 = next(rule for rule in doc["rules"] if rule["name"] == "pm25_hourly")
    pm25["levels"][0] |= {"threshold": 45, "reset": 42}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


def test_replays_from_kafka_and_archive_equal_live_and_what_if_adds_alerts(
    settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    scenario = CityScenario(tmp_path)
    live = settings.model_copy(
        update={
            "partitions": PARTITIONS,
            "registry_file": scenario.registry_file,
            "state_dir": tmp_path / "state",
            "archive_dir": tmp_path / "archive",
        }
    )
    topics = topic_factory(live)
    replays = {name: f"replay-{name}{live.namespace}" for name in ("k", "a", "w")}

    def worker(namespace: str, rules: Path | None = None) -> WorkerProcess:
        process = WorkerProcess(
            live.model_copy(update={"namespace": namespace}),
            tmp_path,
            registry_file=scenario.registry_file,
            name=namespace,
        )
        if rules is not None:
            process.env["ENVMON_ALERT_RULES_FILE"] = str(rules)
        return process

    with ArchiveProcess(live, tmp_path) as archive, worker(live.namespace) as live_worker:
        live_worker.wait_ready()
        sent = scenario.produce(live, 0, scenario.minutes)
        with TopicTail(live.kafka_bootstrap, topics.alerts) as alerts:
            alerts.until(has_alerts(EXPECTED_ALERTS), 90, "live alerts", describe=describe_results)
        archive.wait_archived(sent)
        assert archive.stop() == 0

    base = ("replay", "--from", FROM, "--to", TO, "--source-namespace", live.namespace)
    for name, source in (("k", "kafka"), ("a", "archive"), ("w", "kafka")):
        done = envmon(live, *base, "--source", source, "--namespace", replays[name])
        assert done.returncode == 0, done.stderr
        assert f"replayed {sent:,} readings" in done.stderr, done.stderr

    with (
        worker(replays["k"]) as from_kafka,
        worker(replays["a"]) as from_archive,
        worker(replays["w"], what_if_rules(tmp_path / "what-if.yaml")) as what_if,
    ):
        for w in (from_kafka, from_archive, what_if):
            w.wait_ready(90)
        tails = []
        for name, alerts_wanted in (
            ("k", EXPECTED_ALERTS),
            ("a", EXPECTED_ALERTS),
            ("w", EXPECTED_ALERTS | WHAT_IF_EXTRA),
        ):
            ns = replays[name]
            tails.append(
                (
                    TopicTail(live.kafka_bootstrap, f"{ns}.air.aqi"),
                    has_aqi_keys(scenario.aqi_keys),
                    f"{ns} AQI",
                )
            )
            tails.append(
                (
                    TopicTail(live.kafka_bootstrap, f"{ns}.alerts"),
                    has_alerts(alerts_wanted),
                    f"{ns} alerts",
                )
            )
        try:
            wait_all(tails, timeout=120, describe=describe_results)
        finally:
            for tail, _, _ in tails:
                tail.consumer.close()

    for name in ("k", "a"):
        same = envmon(live, "replay", "diff", "--a", live.namespace, "--b", replays[name],
                      "--from", FROM, "--to", TO, "--json")  # fmt: skip
        report = json.loads(same.stdout or "{}")
        assert same.returncode == 0 and report["equal"], same.stdout + same.stderr
        assert report["aqi"]["count_a"] == report["aqi"]["count_b"] >= scenario.aqi_keys
        assert report["alerts"]["count_a"] == len(EXPECTED_ALERTS)
        assert report["rankings"]["count_a"] > 0

    what = envmon(live, "replay", "diff", "--a", live.namespace, "--b", replays["w"],
                  "--from", FROM, "--to", TO, "--json")  # fmt: skip
    assert what.returncode == 1, what.stderr
    report = json.loads(what.stdout)
    extra = {
        Expected(
            t["rule"], t["subject"].split(":")[1], t["state"], (t["event_ms"] - START_MS) // HOUR_MS
        )
        for t in report["alerts"]["only_b"]
    }
    assert extra == WHAT_IF_EXTRA
    assert report["alerts"]["only_a"] == []
    assert {row["b"]["threshold"] for row in report["alerts"]["differ"]} == {45}
    assert {row["alert"] for row in report["alerts"]["first_fire"]} == {
        f"pm25_hourly|{scope}:{s}"
        for scope, s in (("station", "S7"), ("station", "S8"), ("district", "yantian"))
    }
    assert not report["aqi"]["only_a"] and not report["aqi"]["differ"]

    table = envmon(live, "replay", "diff", "--a", live.namespace, "--b", replays["w"],
                   "--from", FROM, "--to", TO)  # fmt: skip
    assert "alert transitions on one side only" in table.stdout and "Traceback" not in table.stderr
