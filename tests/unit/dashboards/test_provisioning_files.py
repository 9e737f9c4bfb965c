"""Grafana file provisioning (``dashboards/provisioning``): the data source file is the model the
API provisioning sends, with Grafana's ``${VAR}`` interpolation; no secret is in a file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dashboards.grafana import datasource_model
from dashboards.influxql import DATASOURCE_UID
from dashboards.panels import FOLDER_UID
from pipeline.settings import load_settings

PROVISIONING = Path(__file__).resolve().parents[3] / "dashboards" / "provisioning"


def interpolate(text: str, env: dict[str, str]) -> str:
    """Grafana's lookup in provisioning files: ``$VAR`` or ``${VAR}``, unknown ones empty."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m[1] or m[2], ""), text)


def load(path: str, env: dict[str, str]) -> dict[str, Any]:
    return yaml.safe_load(interpolate((PROVISIONING / path).read_text("utf-8"), env))


def test_datasource_file_equals_the_api_model() -> None:
    env = {
        "ENVMON_INFLUX_URL": "http://influxdb:8086",
        "ENVMON_INFLUX_DATABASE": "envmon",
        "ENVMON_INFLUX_TOKEN": "a-real-looking-token",
    }
    settings = load_settings(env=env)
    (source,) = load("datasources/envmon.yaml", env)["datasources"]
    model = datasource_model(settings)
    assert source.pop("editable") is False
    assert source == model
    assert source["uid"] == DATASOURCE_UID


def test_no_secret_in_files() -> None:
    for path in PROVISIONING.rglob("*.yaml"):
        text = path.read_text("utf-8")
        for line in text.splitlines():
            if re.search(r"(?i)token|password|secret", line.split("#")[0]):
                assert "${ENVMON_" in line or line.strip().endswith(":"), f"{path}: {line}"


def test_dashboards_provider_puts_them_in_the_envmon_folder() -> None:
    (provider,) = load("dashboards/envmon.yaml", {})["providers"]
    assert provider["folderUid"] == FOLDER_UID and provider["type"] == "file"
    assert provider["options"]["path"].startswith("/var/lib/grafana/dashboards")
