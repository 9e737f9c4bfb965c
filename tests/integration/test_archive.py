"""``envmon archive``: kill -9 in the middle, a partial frame left behind, a restart — every
record of the readings and dead-letter topics is in the daily files exactly once, with its bytes;
SIGTERM closes the files and exits 0."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.archive.files import ArchivedRecord, frame, parse_name, read_records
from pipeline.archive.writer import local_day
from pipeline.kafka.producer import open_producer
from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures.replay import ArchiveProcess
from tests.fixtures.worker import CityScenario

pytestmark = pytest.mark.integration

BAD = b'{"v":1,"station":"S1","ts":'  # truncated JSON: archived as it is


def archived(root: Path) -> dict[tuple[str, int], list[ArchivedRecord]]:
    """Every record in the archive by (kind, partition), in offset order."""
    found: dict[tuple[str, int], list[ArchivedRecord]] = defaultdict(list)
    for path in sorted(root.rglob("*.jsonl.zst")):
        parsed = parse_name(path)
        assert parsed is not None, path
        found[(parsed[1], parsed[2])].extend(read_records(path))
    return {key: sorted(records, key=lambda r: r.o) for key, records in found.items()}


def wait_for_records(root: Path, count: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = archived(root) if root.exists() else {}
        if sum(map(len, found.values())) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_kill_9_and_restart_archive_every_record_once(
    settings: Settings, topics: Topics, tmp_path: Path
) -> None:
    scenario = CityScenario(tmp_path)
    live = settings.model_copy(update={"archive_dir": tmp_path / "archive"})
    root = live.archive_dir / live.namespace
    first = scenario.produce(live, 0, 120)
    with open_producer(live) as producer:
        producer.send(topics.air_readings, b"S1", BAD)
        producer.send(topics.deadletter, b"S9", b'{"v":1,"reason":"late"}')
    with ArchiveProcess(live, tmp_path) as archive:
        archive.wait_archived(first + 2)
        archive.kill()
        second = scenario.produce(live, 120, 240)
        # a frame cut short, as if the archive had died while appending it
        path = next(root.rglob("air-p000.jsonl.zst"))
        with open(path, "ab") as fh:
            fh.write(frame([b'{"p":0,"o":999999,"t":0,"v":"lost"}'])[:-6])
        archive.start()
        found = wait_for_records(root, first + second + 2)
        assert archive.stop() == 0
        assert "archive_file_closed" in archive.log()
        assert "archive_partial_frame_removed" in archive.log()

    total = first + second + 2
    assert sum(map(len, found.values())) == total
    for (kind, partition), records in found.items():
        offsets = [r.o for r in records]
        assert offsets == list(range(len(records))), f"{kind}/{partition}: gaps or repeats"
        assert all(r.p == partition for r in records)
    values = [r.value for records in found.values() for r in records]
    assert BAD in values and b'{"v":1,"reason":"late"}' in values
    assert {kind for kind, _ in found} == {"air", "deadletter"}
    # readings are filed under the local day of their event time, the malformed message under
    # that of its Kafka timestamp (it has no event time)
    bad = next(r for records in found.values() for r in records if r.value == BAD)
    days = {p.parent.name for p in root.rglob("air-*.jsonl.zst")}
    assert days == {"2026-11-20", str(local_day(bad.t, ZoneInfo("Asia/Shanghai")))}
