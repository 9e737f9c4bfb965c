"""``envmon dashboards build``: writes the JSON, a second run changes nothing; bad options are
named."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def test_build_writes_then_leaves_files_alone(tmp_path: Path) -> None:
    first = runner.invoke(app, ["dashboards", "build", "--out", str(tmp_path), "--language", "en"])
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith(f"5 changed, in {tmp_path}")
    overview = json.loads((tmp_path / "envmon-overview.json").read_text("utf-8"))
    assert overview["title"] == "City overview"
    second = runner.invoke(app, ["dashboards", "build", "--out", str(tmp_path), "--language", "en"])
    assert second.output.strip() == f"0 changed, in {tmp_path}"


def test_language_from_the_setting_and_bad_language_named(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["dashboards", "build", "--out", str(tmp_path)],
        env={"ENVMON_DASHBOARD_LANGUAGE": "en"},
    )
    assert result.exit_code == 0
    assert json.loads((tmp_path / "envmon-alerts.json").read_text("utf-8"))["title"] == "Alerts"
    bad = runner.invoke(app, ["dashboards", "build", "--out", str(tmp_path), "--language", "fr"])
    assert bad.exit_code == 2 and "--language: 'fr' is not one of zh, en" in bad.output
    bad_setting = runner.invoke(
        app,
        ["dashboards", "build", "--out", str(tmp_path)],
        env={"ENVMON_DASHBOARD_LANGUAGE": "de"},
    )
    assert bad_setting.exit_code == 2 and "ENVMON_DASHBOARD_LANGUAGE" in bad_setting.output
