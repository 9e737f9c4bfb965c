"""A replay interrupted half-way and resumed leaves every reading exactly once in the target.

- kill -9 of ``envmon replay`` (paced, so that it is half-way when killed), then the same
  command again: the target's readings equal the source's, none twice, none missing;
- a replay that dies in the middle of a slice (part of the slice acknowledged, the rest never
  sent): the resumed replay finds that part in the target and sends only the rest.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from pipeline.kafka.producer import ReadingProducer, open_producer
from pipeline.messages import Decoder, Reject
from pipeline.registry import Registry, StationKind
from pipeline.replay.checkpoint import Checkpoint, ReplayArgs, checkpoint_path
from pipeline.replay.runner import MAX_SLICE_MS, Progress, Replay
from pipeline.replay.source import KafkaSource
from pipeline.settings import Settings
from pipeline.timeutil import HOUR_MS, label
from pipeline.topics import Topics
from tests.fixtures.replay import ENVMON, envmon, envmon_env
from tests.fixtures.worker import START_MS, CityScenario
from tests.integration.conftest import TopicFactory, TopicReader

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
END_MS = START_MS + 12 * HOUR_MS
SENT = CityScenario.minutes * len(CityScenario.stations)


def readings_in(
    settings: Settings, namespace: str, read_topic: TopicReader, messages: int
) -> Counter[tuple[str, int]]:
    """(station, event time) of every reading in ``namespace``'s air topic, with multiplicity."""
    registry = Registry.load(settings.registry_file)
    decoder = Decoder(StationKind.AIR, registry)
    found: Counter[tuple[str, int]] = Counter()
    for record in read_topic(settings.kafka_bootstrap, Topics(namespace).air_readings, messages):
        decoded = decoder.decode(record.value)
        assert not isinstance(decoded, Reject), decoded
        found.update((r.station, r.ts_ms) for r in decoded)
    return found


@pytest.fixture
def live(settings: Settings, topic_factory: TopicFactory, tmp_path: Path) -> Settings:
    scenario = CityScenario(tmp_path)
    live = settings.model_copy(
        update={"registry_file": scenario.registry_file, "state_dir": tmp_path / "state"}
    )
    topic_factory(live)
    assert scenario.produce(live, 0, scenario.minutes) == SENT
    return live


def test_kill_9_half_way_and_resume_give_every_reading_once(
    live: Settings, read_topic: TopicReader
) -> None:
    target = f"replay-k9{live.namespace}"
    argv = [ENVMON, "replay", "--from", label(START_MS, TZ), "--to", label(END_MS, TZ)]
    argv += ["--speed", "3600", "--namespace", target]  # 12 h in about 12 s
    path = checkpoint_path(live.state_dir, target)
    process = subprocess.Popen(argv, env=envmon_env(live), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (path.exists() and Checkpoint.load(path).slice_index >= 300):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the replay did not get half-way"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = Checkpoint.load(path)
    assert not killed_at.done and 300 <= killed_at.slice_index < 720

    resumed = envmon(live, *argv[1:], "--speed", "3600")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    found = readings_in(live, target, read_topic, SENT)  # paced: one reading per message
    assert sum(found.values()) == SENT, "duplicates or missing readings"
    assert set(found) == {
        (s, START_MS + m * 60_000) for s in CityScenario.stations for m in range(720)
    }
    assert max(found.values()) == 1


class _DiesMidSlice:
    """A producer that, in slice ``slice_index``, gets ``sends`` records acknowledged and then
    dies (the process would be gone: nothing else is sent, the checkpoint is not saved)."""

    def __init__(self, producer: ReadingProducer, sends: int) -> None:
        self.producer, self.left = producer, sends

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None) -> None:
        if self.left == 0:
            self.producer.flush()
            raise RuntimeError("died mid-slice")
        self.left -= 1
        self.producer.send(topic, key, value, partition)

    def flush(self, timeout: float | None = None) -> None:
        self.producer.flush(timeout)


def test_a_replay_dying_mid_slice_resumes_without_duplicates(
    live: Settings, read_topic: TopicReader
) -> None:
    target = f"replay-mid{live.namespace}"
    args = ReplayArgs("kafka", live.namespace, START_MS, END_MS, None, "max", MAX_SLICE_MS, 3)
    registry = Registry.load(live.registry_file)
    first = Replay(live, target, args, registry)
    source = KafkaSource(live, live.namespace, START_MS)
    first.prepare(source)
    with open_producer(live) as producer, pytest.raises(RuntimeError, match="died mid-slice"):
        # 6 envelopes per hour: the 40th send is the 4th of slice 6
        first.run(source, _DiesMidSlice(producer, 39), Progress(lambda *_: None))  # type: ignore[arg-type]
    source.close()
    saved = Checkpoint.load(first.path)
    assert saved.slice_index == 6 and sum(saved.sent.values()) == 36

    second = Replay(live, target, args, registry)
    source = KafkaSource(live, live.namespace, START_MS)
    second.prepare(source)
    assert second.resumed
    with open_producer(live) as producer:
        done = second.run(source, producer, Progress(lambda *_: None))
    source.close()
    assert done.done and done.readings == SENT and done.messages == 72
    found = readings_in(live, target, read_topic, 72)
    assert sum(found.values()) == SENT and max(found.values()) == 1
    envelopes = read_topic(live.kafka_bootstrap, Topics(target).air_readings, 72, 10)
    assert len(envelopes) == 72
    assert all(len(msgspec.json.decode(r.value)["readings"]) == 60 for r in envelopes)
