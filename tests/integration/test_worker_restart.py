"""kill -9 of the stream worker in the middle of a scenario, and a restart with the same state.

Six stations in three districts send minute readings for twelve hours (00:00-11:59, 2026-11-20
+08:00); Nanshan's PM2.5 goes above 75 for hours 02-05, which fires alerts at 03:00 and resolves
them at 07:00 (``tests.fixtures.worker.CityScenario``). The readings up to 05:59 go to a worker,
which fires the alerts; then 06:00-06:29, and once it has consumed them the worker is killed with
SIGKILL (results, changelog writes and offset commits of its last batches in flight). The rest is
produced while it is down, and a new worker with the same settings and the same state dir takes
over. Its results must be those of an uninterrupted run of the same readings in another
namespace, copies of a message aside: no lost or changed hour (the open hours and the stations'
QC memory live only in the tables), no lost, extra or changed alert transition (the firing alerts
live only in the tables).

Table recovery is checked explicitly: the new worker must read every changelog partition to its
last record (Faust logs the offsets it reads to). Tansu 0.6 answers ListOffsets with too low an
end offset when a partition's last record batch holds several records, and then Faust's recovery
stops early, or, with RocksDB, the restarted worker crashes (bench/tansu_table_restore.py). The
scenario's keys are spread so that this does not happen (``PARTITIONS``); when the broker still
under-reports a changelog's end, the test reports that as an expected failure naming Tansu,
with the evidence, instead of judging envmon on a broken restore.

Counts reconcile across the kill: bad messages go in before it and just before it (those are
read again by the new worker and dead-lettered a second time); every produced message is either
accepted — the stations' states in the changelog count the readings they took, and a message
read again whose readings are already in its station's state is not taken twice — or
dead-lettered, dead letters counted once per (topic, partition, offset).
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest

from pipeline.kafka.producer import open_producer
from pipeline.messages import AirReading, AirValues, encode_reading
from pipeline.settings import Settings
from pipeline.topics import Topics
from streams.air.state import StationState
from tests.fixtures.worker import (
    EXPECTED_ALERTS,
    HAND_COMPUTED,
    PARTITIONS,
    START_MS,
    CityScenario,
    TopicTail,
    WorkerProcess,
    alert_summary,
    assert_same_results,
    changelog_topics,
    describe_results,
    hand_computed,
    has_alerts,
    last_offsets,
    listed_end_offsets,
    logged_highwaters,
    results_of,
)
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

FIRST_PART_END = 6 * 60  # readings 00:00-05:59, then wait for the alerts firing at 03:00
KILL_AFTER_MINUTE = 6 * 60 + 30  # readings 06:00-06:29 and the kill, 06:30-11:59 after
FIRING = {e for e in EXPECTED_ALERTS if e.state == "firing"}
BAD = (  # (key, value, reason): a message per dead-letter reason the scenario can show
    (b"S1", b'{"v": 1, "station": "S1", "ts": ', "malformed_json"),
    (
        b"S9",
        encode_reading(AirReading("S9", START_MS, 60, AirValues(pm25=30.0))),
        "unknown_station",
    ),
    (b"S3", encode_reading(AirReading("S3", START_MS, 60, AirValues(pm25=30.0))), "late"),
)
TANSU = "Tansu reports changelog end offsets too low (bench/tansu_table_restore.py)"


@pytest.mark.parametrize("store", ["rocksdb", "memory"])
def test_kill_9_and_restart_give_the_results_of_an_uninterrupted_run(
    store: str, settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    scenario = CityScenario(tmp_path)
    settings = settings.model_copy(update={"partitions": PARTITIONS})
    reference = settings.model_copy(update={"namespace": f"ref{settings.namespace}"})
    topics, reference_topics = topic_factory(settings), topic_factory(reference)
    state_dir = tmp_path / "state"

    def worker(of: Settings, name: str, state: Path) -> WorkerProcess:
        return WorkerProcess(
            of,
            tmp_path,
            registry_file=scenario.registry_file,
            table_store=store,
            state_dir=state,
            name=name,
        )

    with (
        worker(reference, "reference", tmp_path / "reference-state") as uninterrupted,
        worker(settings, "first", state_dir) as first,
    ):
        uninterrupted.wait_ready()
        first.wait_ready()
        scenario.produce(reference, 0, scenario.minutes)
        before = scenario.produce(settings, 0, FIRST_PART_END) + produce_bad(settings)
        with TopicTail(settings.kafka_bootstrap, topics.alerts) as alerts:
            alerts.until(has_alerts(FIRING), 60, "alerts firing before the kill", quiet_s=0)
        before += scenario.produce(settings, FIRST_PART_END, KILL_AFTER_MINUTE)
        before += produce_bad(settings)  # consumed, most likely not committed: read again
        first.wait_for(lambda h: h["messages"] >= before, 60, "readings before the kill consumed")
        first.kill()

        changelogs = changelog_topics(settings.kafka_bootstrap, settings.namespace)
        last = last_offsets(settings.kafka_bootstrap, changelogs)
        listed = listed_end_offsets(settings.kafka_bootstrap, changelogs)
        under_reported = {
            tp: f"end offset {listed[tp]}, last record at {offset}"
            for tp, offset in last.items()
            if offset >= 0 and listed.get(tp) != offset + 1
        }
        scenario.produce(settings, KILL_AFTER_MINUTE, scenario.minutes)

        with worker(settings, "second", state_dir) as second:
            if not second.wait_log("Worker ready"):
                if under_reported and "ConsistencyError" in second.log():
                    pytest.xfail(f"restart crashed (ConsistencyError): {TANSU}: {under_reported}")
                pytest.fail(f"the restarted worker exited; log:\n{second.log_tail()}")
            highwaters = logged_highwaters(second.log())
            results = results_of(
                (settings.kafka_bootstrap, topics),
                (reference.kafka_bootstrap, reference_topics),
                scenario.aqi_keys,
                EXPECTED_ALERTS,
                describe=lambda got: (
                    f"{describe_results(got)}; health of the restarted "
                    f"worker {second.health()}, of the reference {uninterrupted.health()}"
                ),
            )
            reconciled = settled_counts(settings, topics)
            after = second.health() or {}
    reference_aqi_values, reference_alert_values, aqi_values, alert_values = results
    assert hand_computed(reference_aqi_values) == HAND_COMPUTED
    assert alert_summary(reference_alert_values) == EXPECTED_ALERTS

    # the restarted worker read every changelog partition to its last record
    short = {
        tp: f"read to {highwaters.get(tp)}, last record at {offset}"
        for tp, offset in last.items()
        if offset >= 0 and highwaters.get(tp) != offset
    }
    if short and under_reported:
        try:
            assert_same_results(
                aqi_values, reference_aqi_values, alert_values, reference_alert_values
            )
            outcome = "results equal anyway"
        except AssertionError as exc:
            outcome = f"results differ: {exc}"
        pytest.xfail(f"recovery stopped early: {short}; {TANSU}: {under_reported}; {outcome}")
    assert not short, f"table recovery stopped before the end of the changelog: {short}"
    assert_same_results(aqi_values, reference_aqi_values, alert_values, reference_alert_values)
    messages, accepted, dead_letters = reconciled
    again = f"messages read again and recognised: {after.get('redelivered')}"
    assert dead_letters == {reason: 2 for _, _, reason in BAD}, again  # each bad message once
    assert accepted + sum(dead_letters.values()) == messages, again  # counts reconcile


def produce_bad(settings: Settings) -> int:
    with open_producer(settings) as producer:
        for key, value, _ in BAD:
            producer.send(Topics(settings.namespace).air_readings, key, value)
    return len(BAD)


def settled_counts(
    settings: Settings, topics: Topics, timeout_s: float = 15.0
) -> tuple[int, int, dict[str, int]]:
    """:func:`reconcile` once the worker's last state writes are in (or the timeout passed):
    the results can be complete a moment before the batch's changelog records are."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages, accepted, dead_letters = reconcile(settings, topics)
        if accepted + sum(dead_letters.values()) >= messages or time.monotonic() > deadline:
            return messages, accepted, dead_letters
        time.sleep(0.5)


def reconcile(settings: Settings, topics: Topics) -> tuple[int, int, dict[str, int]]:
    """(messages produced, readings the stations' final states took, distinct dead letters by
    reason); dead letters are told apart by (topic, partition, offset) of their message."""
    bootstrap = settings.kafka_bootstrap
    with TopicTail(bootstrap, topics.air_readings) as readings:
        messages = len(readings.drain(1.0))
    with TopicTail(bootstrap, topics.deadletter) as letters:
        letters.drain(1.0)
        identities = {
            (d["source_topic"], d["partition"], d["offset"]): d["reason"] for d in letters.values()
        }
    changelog = f"envmon-{settings.namespace}-air-stations-changelog"
    with TopicTail(bootstrap, changelog) as tail:
        final = {r.key: r.value for r in tail.drain(1.0)}
    decode = msgspec.msgpack.Decoder(StationState).decode
    accepted = sum(decode(v).accepted for v in final.values() if v is not None)
    by_reason: dict[str, int] = {}
    for reason in identities.values():
        by_reason[reason] = by_reason.get(reason, 0) + 1
    return messages, accepted, by_reason
