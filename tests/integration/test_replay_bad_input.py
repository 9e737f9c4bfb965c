"""Bad input to ``envmon replay``: each a clear message and an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from pipeline.archive.files import ArchivedRecord, encode_line
from pipeline.archive.writer import DailyFiles, local_day
from pipeline.cli import app
from pipeline.settings import Settings
from pipeline.timeutil import HOUR_MS, label
from tests.fixtures.replay import envmon_env
from tests.fixtures.worker import START_MS, CityScenario
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
RANGE = ("--from", label(START_MS, TZ), "--to", label(START_MS + HOUR_MS, TZ))


@pytest.fixture
def live(settings: Settings, topic_factory: TopicFactory, tmp_path: Path) -> Settings:
    scenario = CityScenario(tmp_path)
    live = settings.model_copy(
        update={
            "registry_file": scenario.registry_file,
            "state_dir": tmp_path / "state",
            "archive_dir": tmp_path / "archive",
        }
    )
    topic_factory(live)
    scenario.produce(live, 0, 60)
    return live


def refused(live: Settings, *args: str, code: int = 1) -> str:
    """``envmon replay ARGS`` (in-process: the real command line, without a Python start-up)
    fails with ``code`` and a message, not an exception; its stderr."""
    done = CliRunner().invoke(app, ["replay", *args], env=envmon_env(live))
    assert isinstance(done.exception, SystemExit), done.exception
    assert done.exit_code == code, done.stderr
    return done.stderr


def test_a_time_range_without_data(live: Settings) -> None:
    args = (
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
        "--namespace",
        f"replay-e{live.namespace}",
    )
    message = refused(live, *args)
    assert f"no readings of {live.namespace} between 2026-01-01T00:00+08:00" in message
    assert "nothing to replay" in message


def test_to_before_from_and_a_bad_speed(live: Settings) -> None:
    message = refused(live, "--from", "2026-11-20", "--to", "2026-11-19", code=2)
    assert "--to (2026-11-19T00:00+08:00) must be after --from" in message
    assert "--speed: 'fast' is not a number" in refused(live, *RANGE, "--speed", "fast", code=2)
    assert "a replay namespace is replay-<id>" in refused(live, *RANGE, "--namespace", "prod")


def test_a_missing_archive_directory(live: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-archive"
    args = ("--source", "archive", "--archive-dir", str(missing), "--namespace", "replay-x")
    message = refused(live, *RANGE, *args)
    assert f"archive directory {missing / live.namespace} does not exist" in message


def test_a_namespace_that_exists(live: Settings, topic_factory: TopicFactory) -> None:
    existing = f"replay-x{live.namespace}"
    topic_factory(live.model_copy(update={"namespace": existing}))
    message = refused(live, *RANGE, "--namespace", existing)
    assert f"namespace {existing} already exists" in message
    assert f"envmon replay drop x{live.namespace}" in message


def test_a_corrupt_archive_file(live: Settings) -> None:
    files = DailyFiles(live.archive_dir, live.namespace)
    key = (local_day(START_MS, TZ), "air", 0)
    for offset, (k, v) in enumerate(CityScenario.records(0, 60)):
        files.append(key, encode_line(ArchivedRecord.of(0, offset, START_MS, k, v)))
        if offset == 100:
            files.sync()
    files.sync()
    files.close()
    path = next(live.archive_dir.rglob("air-p000.jsonl.zst"))
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 8] = b"\xff" * 8  # damage the first frame
    path.write_bytes(bytes(data))
    message = refused(live, *RANGE, "--source", "archive", "--namespace", "replay-c")
    assert f"archive file {path} is corrupt" in message
