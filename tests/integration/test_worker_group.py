"""Two stream workers in one consumer group give the results of one worker.

Both workers of the group namespace start before anything is produced; once both answer on their
health port and the group has settled (both ready at the same generation, the readings'
partitions split between them), the scenario of ``tests.fixtures.worker.CityScenario`` (six
stations on six partitions, minute readings for twelve hours, alerts firing at 03:00 and
resolving at 07:00) goes to the group's namespace and, for comparison, to a namespace served by
a single worker, an hour of readings at a time once the previous hour is consumed, as stations
report. (Twelve hours at once let one worker run more than six hours of event time ahead of the
other, and the district/city aggregator, which keeps six closed hours, then rejects the lagging
stations' hours as late: a known limit, not what this test is about.)

The results must be the same, copies of a message aside: the same station and district AQI, the
same final city AQI per hour, the same alert transitions with the same content. A district's
stations sit on partitions of different workers, so the district and city aggregates (one agent,
keyed by the city) take station hours produced by both.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.settings import Settings
from tests.fixtures.worker import (
    EXPECTED_ALERTS,
    HAND_COMPUTED,
    PARTITIONS,
    CityScenario,
    WorkerProcess,
    alert_summary,
    assert_same_results,
    describe_results,
    hand_computed,
    results_of,
)
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("store", ["rocksdb", "memory"])
def test_two_workers_in_one_group_give_the_results_of_one(
    store: str, settings: Settings, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    scenario = CityScenario(tmp_path)
    settings = settings.model_copy(update={"partitions": PARTITIONS})
    single = settings.model_copy(update={"namespace": f"one{settings.namespace}"})
    topics, single_topics = topic_factory(settings), topic_factory(single)

    def worker(of: Settings, name: str) -> WorkerProcess:
        return WorkerProcess(
            of,
            tmp_path,
            registry_file=scenario.registry_file,
            table_store=store,
            state_dir=tmp_path / name,
            name=name,
        )

    with (
        worker(single, "single") as alone,
        worker(settings, "member-a") as a,
        worker(settings, "member-b") as b,
    ):
        for process in (alone, a, b):
            process.wait_ready()
        settled = _wait_settled(a, b, topics.air_readings, timeout=60)
        sent = 0
        for minute in range(0, scenario.minutes, 60):  # an hour at a time, as stations report
            scenario.produce(single, minute, minute + 60)
            sent += scenario.produce(settings, minute, minute + 60)
            alone.wait_for(lambda h, n=sent: h["messages"] >= n, 30, f"{sent} readings consumed")
            _wait_consumed(a, b, sent, timeout=30)
        results = results_of(
            (settings.kafka_bootstrap, topics),
            (single.kafka_bootstrap, single_topics),
            scenario.aqi_keys,
            EXPECTED_ALERTS,
            describe=lambda got: (
                f"{describe_results(got)}; health of the group's workers "
                f"{a.health()}, {b.health()}, of the single worker {alone.health()}"
            ),
        )
        consumed = [process.health() or {} for process in (a, b)]
        still = (a.assignment(topics.air_readings), b.assignment(topics.air_readings))
    single_aqi_values, single_alert_values, aqi_values, alert_values = results

    assert still == settled, f"the group rebalanced during the run: {settled} -> {still}"
    messages = [h.get("messages", 0) for h in consumed]
    assert all(messages) and sum(messages) == sent, f"{sent} readings, consumed {messages}"
    assert hand_computed(single_aqi_values) == HAND_COMPUTED
    assert alert_summary(single_alert_values) == EXPECTED_ALERTS
    assert_same_results(aqi_values, single_aqi_values, alert_values, single_alert_values)


Assignment = tuple[tuple[int, set[int]] | None, ...]


def _wait_settled(a: WorkerProcess, b: WorkerProcess, topic: str, timeout: float) -> Assignment:
    """Wait until both workers are ready at one generation with ``topic``'s partitions split
    between them; their (generation, partitions)."""
    deadline = time.monotonic() + timeout
    while True:
        got = (a.assignment(topic), b.assignment(topic))
        if None not in got:
            (gen_a, mine), (gen_b, theirs) = got  # type: ignore[misc]
            split = mine and theirs and not mine & theirs and len(mine | theirs) == PARTITIONS
            if gen_a == gen_b and split:
                return got
        if time.monotonic() > deadline:
            pytest.fail(
                f"the group did not settle within {timeout:g} s: {got}; logs:\n"
                f"{a.log_tail(15)}\n---\n{b.log_tail(15)}"
            )
        time.sleep(0.2)


def _wait_consumed(a: WorkerProcess, b: WorkerProcess, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        consumed = [(p.health() or {}).get("messages", 0) for p in (a, b)]
        if sum(consumed) >= count:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the group consumed {consumed} of {count} readings in {timeout:g} s")
        time.sleep(0.1)
