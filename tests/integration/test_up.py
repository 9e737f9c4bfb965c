"""`envmon up`: the stack starts, readings flow, a second is refused, Ctrl-C leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from pipeline.messages import Decoder
from pipeline.registry import Registry, StationKind
from tests.integration.conftest import TopicReader

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"envmon up exited early with {process.returncode}:\n{process.stdout.read()}"
            )  # type: ignore[union-attr]
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.3)
    pytest.fail(f"envmon up not ready within {timeout} s")


def test_up_runs_the_stack_and_ctrl_c_stops_everything(
    tmp_path: Path, read_topic: TopicReader
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")}
    env |= {"ENVMON_STATE_DIR": str(tmp_path / "state"), "ENVMON_PARTITIONS": "2"}
    argv = [sys.executable, "-m", "pipeline", "up", "--stations", "3", "--backfill", "5h"]
    up = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        state = _wait_for(tmp_path / "state" / "up.json", up, timeout=120)
        children = state["children"]
        assert {"broker", "influxd", "sink", "worker", "simulator"} <= set(children)

        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "already running" in second.stderr

        registry = (tmp_path / "state" / "registry.yaml").read_text("utf-8")
        assert "sim-air-0003" in registry
        bootstrap = state["urls"]["broker"]["bootstrap"]
        # the 5 h backfill: 15 national stations hourly + 3 micro-stations per minute, in envelopes
        decoder = Decoder(StationKind.AIR, Registry.load(tmp_path / "state" / "registry.yaml"))
        air = read_topic(bootstrap, "env.air.readings", count=30, timeout=30)
        readings = [r for record in air for r in decoder.decode(record.value)]
        assert len(readings) >= 5 * 60 * 3
        assert {r.station for r in readings} >= {"1356A", "sim-air-0001", "sim-air-0003"}
        quality = read_topic(bootstrap, "env.water.quality", count=1, timeout=60)
        assert quality, "the worker turned no water reading into a result"
        influx_url = state["urls"]["influxd"]["url"]
        assert _count_points(influx_url, '"raw"."air_reading"') >= 5 * 60 * 3
        assert _count_points(influx_url, '"water_quality"') >= 1
    finally:
        up.send_signal(signal.SIGINT)
        try:
            out, _ = up.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            out, _ = up.communicate()
    assert up.returncode == 0, out
    assert "no process left behind" in out
    time.sleep(0.5)
    assert [name for name, pid in children.items() if _alive(pid)] == []
    assert not (tmp_path / "state" / "up.lock").exists()


def _count_points(url: str, source: str, timeout: float = 60) -> int:
    """The largest field count of ``source`` (an InfluxQL FROM clause) in the envmon database."""
    query = urllib.parse.urlencode({"db": "envmon", "q": f"SELECT COUNT(*) FROM {source}"})
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{url}/query?{query}", timeout=5) as response:
            series = json.load(response)["results"][0].get("series", [])
        count = max((v for s in series for v in s["values"][0][1:] if v), default=0)
        if count or time.monotonic() > deadline:
            return count
        time.sleep(1)
