"""Every board rendered to Grafana dashboard JSON, written to ``dashboards/json/<uid>.json``
(committed; ``envmon dashboards build`` regenerates it, a test fails when it is stale)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.boards import air_station, alerts, overview, pipeline_health, rivers
from dashboards.context import Context
from dashboards.panels import Board

JSON_DIR = Path(__file__).parent / "json"
BOARDS: dict[str, Callable[[Context], Board]] = {
    module.UID: module.build for module in (overview, air_station, rivers, alerts, pipeline_health)
}
Dashboard = dict[str, Any]


def render(context: Context) -> dict[str, Dashboard]:
    """uid -> dashboard JSON model (as Grafana's ``dashboard`` object, without ``id``)."""
    return {
        uid: json.loads(json.dumps(build(context).dashboard.build(), cls=JSONEncoder))
        for uid, build in BOARDS.items()
    }


def to_text(dashboard: Dashboard) -> str:
    """The committed form: indented, Chinese as is, a final newline."""
    return json.dumps(dashboard, ensure_ascii=False, indent=2) + "\n"


def write(dashboards: dict[str, Dashboard], directory: Path = JSON_DIR) -> list[Path]:
    """Write ``<uid>.json`` files, leaving unchanged ones untouched; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for uid, dashboard in dashboards.items():
        path = directory / f"{uid}.json"
        text = to_text(dashboard)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            written.append(path)
    return written


def stale(dashboards: dict[str, Dashboard], directory: Path = JSON_DIR) -> list[str]:
    """The files of ``directory`` that differ from ``dashboards`` (missing and extra ones too)."""
    expected = {f"{uid}.json": to_text(d) for uid, d in dashboards.items()}
    present = {p.name: p.read_text("utf-8") for p in directory.glob("*.json")}
    return sorted(
        name for name in expected.keys() | present.keys() if expected.get(name) != present.get(name)
    )
