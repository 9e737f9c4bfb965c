"""The generated dashboards: Grafana's dashboard schema, the committed JSON, fixed UIDs and
variables, links between dashboards, languages, InfluxQL only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dashboards.build import JSON_DIR, render, stale, write
from dashboards.context import Context
from pipeline.registry import Registry

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "grafana" / "dashboard-schema"
UIDS = {
    "envmon-overview": set(),
    "envmon-air-station": {"station"},
    "envmon-rivers": {"section"},
    "envmon-alerts": set(),
    "envmon-pipeline": {"namespace"},
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.jsonschema.json").read_text("utf-8"))


@pytest.fixture(scope="module", params=["zh", "en"])
def dashboards(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    return render(Context.of(request.param, Registry.load()))


def panels_of(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_every_dashboard_validates_against_grafanas_schema(dashboards: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(schema("dashboard"))
    for uid, dashboard in dashboards.items():
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(dashboard)]
        assert not errors, f"{uid}: {errors[:5]}"


def test_time_series_panels_validate_against_the_timeseries_schema(
    dashboards: dict[str, Any],
) -> None:
    definitions = schema("timeseries")

    def validator(name: str) -> jsonschema.Draft7Validator:
        return jsonschema.Draft7Validator({"$ref": f"#/definitions/{name}"} | definitions)

    options, custom = validator("Options"), validator("FieldConfig")
    checked = 0
    for uid, dashboard in dashboards.items():
        for panel in panels_of(dashboard):
            if panel["type"] == "timeseries":
                checked += 1
                for v, part in (
                    (options, panel["options"]),
                    (custom, panel["fieldConfig"]["defaults"]["custom"]),
                ):
                    errors = [e.message for e in v.iter_errors(part)]
                    assert not errors, f"{uid} {panel['title']}: {errors[:3]}"
    assert checked >= 10


def test_the_checks_catch_a_broken_dashboard(dashboards: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(dashboards["envmon-overview"]))
    broken["panels"][0]["gridPos"]["w"] = "wide"
    del broken["schemaVersion"]
    assert len(list(jsonschema.Draft7Validator(schema("dashboard")).iter_errors(broken))) == 2


def test_fixed_uids_variables_and_every_panel_queries_influxql(dashboards: dict[str, Any]) -> None:
    assert set(dashboards) == set(UIDS)
    for uid, dashboard in dashboards.items():
        assert dashboard["uid"] == uid
        variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
        assert variables == UIDS[uid]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), f"{uid}: panel ids repeat"
        for panel in panels_of(dashboard):
            assert panel["targets"], f"{uid} {panel['title']}: no query"
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert ref_ids == list("ABCDEFGH"[: len(ref_ids)]), f"{uid} {panel['title']}"
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "influxdb", "uid": "envmon-influxdb"}
                assert target["rawQuery"] is True
                query = target["query"]
                assert query.startswith(("SELECT ", "SHOW ")), query
                if 'FROM "site"' not in query:
                    assert "$timeFilter" in query, f"{uid} {panel['title']}: {query}"
            assert panel["fieldConfig"]["defaults"].get("unit") or panel["type"] in ("geomap",), (
                f"{uid} {panel['title']}: no unit"
            )


def test_links_lead_to_existing_dashboards_and_their_variables(dashboards: dict[str, Any]) -> None:
    found = set()
    for uid, dashboard in dashboards.items():
        for panel in panels_of(dashboard):
            for link in panel["fieldConfig"]["defaults"].get("links", []):
                target, variable = re.match(r"/d/([\w-]+)\?var-(\w+)=", link["url"]).groups()
                assert variable in UIDS[target]
                found.add((uid, target, variable))
        assert dashboard["links"][0]["tags"] == ["envmon"]  # every board lists the others
    assert ("envmon-overview", "envmon-air-station", "station") in found
    assert ("envmon-rivers", "envmon-rivers", "section") in found


def test_language_picks_titles() -> None:
    registry = Registry.load()
    zh, en = (render(Context.of(lang, registry)) for lang in ("zh", "en"))
    assert zh["envmon-overview"]["title"] == "城市空气质量概览 City overview"
    assert en["envmon-overview"]["title"] == "City overview"
    for dashboard in en.values():
        titles = [p["title"] for p in dashboard["panels"]]
        assert not any(CJK.search(t) for t in titles), titles
        assert "name_en" in json.dumps(dashboard) or dashboard["uid"] != "envmon-overview"
    for dashboard in zh.values():
        assert all(
            CJK.search(p["title"]) and re.search("[A-Za-z]", p["title"])
            for p in dashboard["panels"]
        )


def test_committed_json_is_up_to_date() -> None:
    """``envmon dashboards build`` writes the committed files; run it after changing a board."""
    current = render(Context.of("zh", Registry.load()))
    assert stale(current, JSON_DIR) == [], "dashboards/json is stale: run `envmon dashboards build`"


def test_staleness_is_detected(tmp_path: Path) -> None:
    current = render(Context.of("zh", Registry.load()))
    assert len(write(current, tmp_path)) == 5 and write(current, tmp_path) == []
    (tmp_path / "envmon-alerts.json").write_text("{}\n", "utf-8")
    (tmp_path / "envmon-old.json").write_text("{}\n", "utf-8")
    assert stale(current, tmp_path) == ["envmon-alerts.json", "envmon-old.json"]
