"""`envmon up` end to end: the whole stack on one machine, readings through broker, worker and
sink into InfluxDB, alerts to the notifier's log channel, archive and HJ 212 gateway up, a second
stack refused, no secret in any log, and Ctrl-C (SIGINT) leaves no process of the tree behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.messages import Decoder
from pipeline.registry import Registry, StationKind
from tests.integration.conftest import TopicReader

pytestmark = pytest.mark.integration

# Secrets the stack is given; none may appear in its output or logs. The InfluxDB here runs
# without authentication and ignores the token; the acknowledge secret signs the links of every
# notification; Grafana is not started, and no channel here uses the SMTP password or the webhook
# secret (named by a subscriptions file's password_env / secret_env): those only pass through.
SECRETS = {
    "ENVMON_INFLUX_TOKEN": "e2e-influx-token-5f0c9a71d2",
    "ENVMON_GRAFANA_TOKEN": "e2e-grafana-token-8b3e61c4aa",
    "ENVMON_ACK_SECRET": "e2e-ack-secret-0d9c44e7b1",
    "NOTIFY_SMTP_PASSWORD": "e2e-smtp-password-73ac0e55f9",
    "NOTIFY_WEBHOOK_SECRET": "e2e-webhook-secret-c2b8d1a6e0",
}
# A what-if rule set that fires at once: every river section worse than Class I.
RULES = """\
schema_version: 1
rules:
  - name: water_worse_than_class_i
    kind: water_class
    levels:
      - {severity: warning, threshold: I}
"""


@dataclass
class Stack:
    process: subprocess.Popen[str]
    state_dir: Path
    state: dict
    tree: set[int]  # the pids of every descendant of `envmon up`, seen while it ran
    output: str = ""


def _children(pid: int) -> set[int]:
    """Direct children of ``pid`` (from /proc/*/stat; the 4th field is the parent pid)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _descendants(pid: int) -> set[int]:
    todo, seen = [pid], set()
    while todo:
        for child in _children(todo.pop()) - seen:
            seen.add(child)
            todo.append(child)
    return seen


def _alive(pid: int) -> bool:
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"envmon up exited early with {process.returncode}:\n{out}")
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.3)
    pytest.fail(f"envmon up not ready within {timeout} s")


def _stop(stack: Stack) -> None:
    """Ctrl-C: SIGINT to `envmon up` alone, as a terminal would send it to the foreground job."""
    stack.tree |= _descendants(stack.process.pid)
    stack.process.send_signal(signal.SIGINT)
    try:
        stack.output, _ = stack.process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.output, _ = stack.process.communicate()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """`envmon up` as a subprocess: 3 micro-stations, 5 h backfill, a rule that fires at once."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")}
    env |= {
        "ENVMON_STATE_DIR": str(tmp_path / "state"),
        "ENVMON_PARTITIONS": "2",
        "ENVMON_ALERT_RULES_FILE": str(rules),
        "ENVMON_NOTIFIER_PUBLIC_URL": "http://127.0.0.1:1/",  # signed acknowledge links
        **SECRETS,
    }
    argv = [sys.executable, "-m", "pipeline", "up", "--stations", "3", "--backfill", "5h"]
    # Ctrl-C reaches a foreground job with SIGINT's default action; a shell starts background
    # jobs (this test, in a CI script) with SIGINT ignored, which a child would inherit
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)  # reset at exec
    try:
        process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    finally:
        signal.signal(signal.SIGINT, ignored)
    stack = Stack(process, tmp_path / "state", {}, set())
    try:
        stack.state = _wait_for(stack.state_dir / "up.json", process, timeout=120)
        stack.tree = _descendants(process.pid)
        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "already running" in second.stderr
        yield stack
    finally:
        if process.poll() is None:
            _stop(stack)
        for pid in _descendants(process.pid) | stack.tree:  # a failed test leaves nothing either
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_up_runs_the_stack_and_ctrl_c_stops_everything(
    stack: Stack, read_topic: TopicReader
) -> None:
    children = stack.state["children"]
    parts = {"broker", "influxd", "worker", "sink", "archive", "notifier", "gateway", "simulator"}
    assert parts <= set(children)
    assert set(children.values()) <= stack.tree
    urls = stack.state["urls"]
    for part in ("worker", "sink", "archive", "notifier", "gateway"):
        with urllib.request.urlopen(urls[part]["health"], timeout=5) as response:
            assert response.status == 200, part

    registry_path = stack.state_dir / "registry.yaml"
    assert "sim-air-0003" in registry_path.read_text("utf-8")
    bootstrap = urls["broker"]["bootstrap"]
    # the 5 h backfill: 15 national stations hourly + 3 micro-stations per minute, in envelopes
    decoder = Decoder(StationKind.AIR, Registry.load(registry_path))
    air = read_topic(bootstrap, "env.air.readings", count=30, timeout=30)
    readings = [r for record in air for r in decoder.decode(record.value)]
    assert len(readings) >= 5 * 60 * 3
    assert {r.station for r in readings} >= {"1356A", "sim-air-0001", "sim-air-0003"}
    quality = read_topic(bootstrap, "env.water.quality", count=1, timeout=60)
    assert quality, "the worker turned no water reading into a result"
    alerts = [json.loads(r.value) for r in read_topic(bootstrap, "env.alerts", 1, timeout=60)]
    assert any(a.get("rule") == "water_worse_than_class_i" for a in alerts), alerts[:3]
    # no subscriptions configured: envmon up wrote one that logs every transition
    assert "type: log" in (stack.state_dir / "subscriptions.yaml").read_text("utf-8")
    notified = _wait_for_line(stack.state_dir / "logs" / "notifier.log", "subscriber=log")
    assert any(a["alert_id"] in notified for a in alerts), notified
    host, port = urls["gateway"]["hj212"].removeprefix("tcp://").split(":")
    socket.create_connection((host, int(port)), timeout=5).close()
    influx_url = urls["influxd"]["url"]
    assert _count_points(influx_url, '"raw"."air_reading"') >= 5 * 60 * 3
    assert _count_points(influx_url, '"water_quality"') >= 1

    _stop(stack)
    assert stack.process.returncode == 0, stack.output
    assert "no process left behind" in stack.output
    stopped = re.findall(r"stopped (\S+) \(", stack.output)  # services at once, broker last
    assert set(stopped) >= parts and stopped[-2:] == ["influxd", "broker"], stopped
    assert len(stack.tree) >= len(children)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in stack.tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in stack.tree if _alive(pid)] == []
    assert not (stack.state_dir / "up.lock").exists()

    logs = {"envmon up output": stack.output} | {
        str(path): path.read_text(errors="replace") for path in stack.state_dir.rglob("*.log")
    }
    assert len(logs) >= 9  # the output, broker, influxd, worker, sink, notifier, archive, …
    for name, secret in SECRETS.items():
        leaked = [where for where, text in logs.items() if secret in text]
        assert leaked == [], f"{name} printed in {leaked}"


def _wait_for_line(path: Path, text: str, timeout: float = 60) -> str:
    """The first line of the log at ``path`` that contains ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        found = [line for line in lines if text in line]
        if found:
            return found[0]
        time.sleep(0.5)
    pytest.fail(f"no line with {text!r} in {path} within {timeout} s")


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
