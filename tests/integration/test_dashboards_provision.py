"""``envmon dashboards provision`` and ``export`` against a local HTTP server that checks every
request (method, path, body) against Grafana's OpenAPI description and keeps state
(``tests/fixtures/grafana_api.py``): the first run creates the data source, the folder and the
dashboards; a second run sends no change; an edit made in Grafana is exported and then put
back by the next run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards.build import render
from dashboards.context import Context
from pipeline.registry import Registry
from pipeline.settings import load_settings
from tests.fixtures.grafana_api import FakeGrafana

pytestmark = pytest.mark.integration

ENVMON = str(Path(sys.executable).with_name("envmon"))
TOKEN = "glsa_test_0123456789abcdef"
INFLUX_TOKEN = "influx-test-token-1"
UIDS = {
    "envmon-overview",
    "envmon-air-station",
    "envmon-rivers",
    "envmon-alerts",
    "envmon-pipeline",
}


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana(TOKEN) as server:
        yield server


def envmon(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")}
    base |= {"ENVMON_INFLUX_URL": "http://influxdb:8086", "ENVMON_INFLUX_TOKEN": INFLUX_TOKEN}
    return subprocess.run(
        [ENVMON, "dashboards", *args], env=base | env, capture_output=True, text=True, timeout=60
    )


def provision(grafana: FakeGrafana, *extra: str) -> subprocess.CompletedProcess[str]:
    result = envmon("provision", "--url", grafana.url, "--token", TOKEN, *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_first_run_creates_everything_and_second_run_sends_no_change(grafana: FakeGrafana) -> None:
    first = provision(grafana)
    state = grafana.state
    assert not state.violations, state.violations
    writes = [(r.method, r.path) for r in grafana.writes()]
    assert writes == [
        ("POST", "/api/datasources"),
        ("POST", "/api/folders"),
        *[("POST", "/api/dashboards/db")] * 5,
    ]
    assert "datasource envmon-influxdb: created" in first.stdout
    assert set(state.dashboards) == UIDS
    assert {d["meta"]["folderUid"] for d in state.dashboards.values()} == {"envmon"}
    datasource = state.datasources["envmon-influxdb"]
    assert datasource["type"] == "influxdb" and datasource["jsonData"]["version"] == "InfluxQL"
    assert datasource["url"] == "http://influxdb:8086"
    assert datasource["secureJsonFields"] == {"httpHeaderValue1": True}
    sent = next(r.body for r in grafana.writes() if r.path == "/api/datasources")
    assert sent["secureJsonData"] == {"httpHeaderValue1": f"Token {INFLUX_TOKEN}"}
    # what was stored is what the committed build renders (zh, bundled registry)
    settings = load_settings(env={})
    expected = render(Context.of(settings.dashboard_language, Registry.load()))
    stored = state.dashboards["envmon-rivers"]["dashboard"]
    assert {k: v for k, v in stored.items() if k not in ("id", "version")} == expected[
        "envmon-rivers"
    ]

    before = len(state.requests)
    second = provision(grafana)
    assert not state.violations, state.violations
    assert [r for r in state.requests[before:] if r.method != "GET"] == []
    assert len(state.requests) - before == 7  # one read per object
    assert second.stdout.count("unchanged") == 7


def test_changes_are_sent_and_only_they(grafana: FakeGrafana) -> None:
    provision(grafana)
    state = grafana.state
    # someone edits a dashboard in Grafana and renames the folder
    state.dashboards["envmon-alerts"]["dashboard"]["title"] = "edited in the UI"
    state.folders["envmon"]["title"] = "renamed"
    before = len(state.requests)

    exported = envmon("export", "envmon-alerts", "--url", grafana.url, "--token", TOKEN)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["title"] == "edited in the UI"
    assert "id" not in json.loads(exported.stdout)

    result = provision(grafana, "--no-force")
    assert not state.violations, state.violations
    writes = [(r.method, r.path) for r in state.requests[before:] if r.method != "GET"]
    assert writes == [("PUT", "/api/folders/envmon"), ("POST", "/api/dashboards/db")]
    assert "dashboard envmon-alerts: updated" in result.stdout
    assert state.dashboards["envmon-alerts"]["dashboard"]["title"] != "edited in the UI"
    assert state.dashboards["envmon-alerts"]["dashboard"]["version"] == 2

    # a data source whose settings changed is updated with its version
    before = len(state.requests)
    provision_env = envmon(
        "provision", "--url", grafana.url, "--token", TOKEN, ENVMON_INFLUX_DATABASE="other"
    )
    assert provision_env.returncode == 0, provision_env.stderr
    writes = [r for r in state.requests[before:] if r.method != "GET"]
    assert [(r.method, r.path) for r in writes] == [("PUT", "/api/datasources/uid/envmon-influxdb")]
    assert writes[0].body["jsonData"]["dbName"] == "other" and writes[0].body["version"] == 1
    assert not state.violations, state.violations


def test_refused_token_and_unknown_dashboard_are_clear_errors(grafana: FakeGrafana) -> None:
    refused = envmon("provision", "--url", grafana.url, "--token", "glsa_wrong_token_value")
    assert refused.returncode == 1
    assert "error: Grafana at" in refused.stderr and "Unauthorized" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = envmon("export", "envmon-nothing", "--url", grafana.url, "--token", TOKEN)
    assert missing.returncode == 1
    assert "dashboard envmon-nothing: not found" in missing.stderr
    bad_url = envmon("provision", "--url", "grafana:3000", "--token", TOKEN)
    assert bad_url.returncode == 2 and "--url" in bad_url.stderr


def test_the_stand_in_rejects_what_the_spec_does_not_allow(grafana: FakeGrafana) -> None:
    """The checks can fail: a body of the wrong shape, an undocumented path."""
    from grafana_client import GrafanaApi

    api = GrafanaApi.from_url(grafana.url, credential=TOKEN)
    api.folder.client.POST("/folders", json={"title": 42, "uid": "x"})
    with pytest.raises(Exception, match="404"):
        api.folder.client.GET("/no/such/route")
    violations = "\n".join(grafana.state.violations)
    assert "POST /api/folders body ['title']: 42 is not of type 'string'" in violations
    assert "GET /api/no/such/route: no such path in the spec" in violations
