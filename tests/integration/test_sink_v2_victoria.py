"""The v2 write path: influxdb-client writes to VictoriaMetrics' ``/api/v2/write`` and the points
are read back from it.

VictoriaMetrics keeps numeric fields only (as ``{measurement}_{field}`` series, tags as labels)
and ignores buckets, so this test tells its points apart by a subject unique to its namespace.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.topics import Topics
from tests.fixtures import sink_messages as m
from tests.fixtures.servers import VictoriaMetrics
from tests.fixtures.sink_process import SinkProcess, produce, wait_for

pytestmark = pytest.mark.integration
N = 200


def export(vm: VictoriaMetrics, selector: str) -> list[dict]:
    """Every sample of the series matching ``selector``, one JSON object per series."""
    urllib.request.urlopen(f"{vm.url}/internal/force_flush", timeout=10).close()
    query = urllib.parse.urlencode({"match[]": selector})
    with urllib.request.urlopen(f"{vm.url}/api/v1/export?{query}", timeout=10) as response:
        return [json.loads(line) for line in response.read().splitlines()]


def test_v2_points_are_written_and_read_back(
    settings: Settings, topics: Topics, victoria_metrics: VictoriaMetrics, tmp_path: Path
) -> None:
    aimed = settings.model_copy(update={"influx_url": victoria_metrics.url, "influx_api": "v2"})
    plain, odd = settings.namespace, f"{m.ODD_ID} {settings.namespace}"
    messages = [m.aqi(i, odd if i % 2 else plain, m.ODD_NAME, 50 + i % 7) for i in range(N)]
    produce(aimed, [(topics.air_aqi, b"k", m.encode(msg)) for msg in messages])

    with SinkProcess(aimed, tmp_path):
        selector = f'{{__name__="air_aqi_aqi",subject=~"{plain}|.* {plain}"}}'
        series = wait_for(
            lambda: export(victoria_metrics, selector),
            lambda found: sum(len(s["timestamps"]) for s in found) >= N,
            30,
            "samples in VictoriaMetrics",
        )
    got = {
        (s["metric"]["subject"], ts): value
        for s in series
        for ts, value in zip(s["timestamps"], s["values"], strict=True)
    }
    want = {(msg.subject, msg.period_start_ms): msg.aqi for msg in messages}
    assert got == want
    assert {s["metric"]["district"] for s in series} == {"futian"}
