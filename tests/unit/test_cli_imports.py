"""The command line stays lean: importing it (every service and short command does) loads none
of the heavy libraries; commands import what they need when they run."""

import subprocess
import sys

import typer

from pipeline.cli import app

HEAVY = (
    "aiohttp",
    "aiokafka",
    "confluent_kafka",
    "faust",
    "grafana_client",
    "grafana_foundation_sdk",
    "influxdb_client",
    "jinja2",
    "kafka",
    "numpy",
    "zstandard",
)
COMMANDS = (
    "alerts",
    "archive",
    "calc",
    "config",
    "dashboards",
    "gateway",
    "hj212",
    "influx",
    "ingest",
    "notify",
    "replay",
    "simulate",
    "sink",
    "stations",
    "subscriptions",
    "topics",
    "up",
    "worker",
)


def _python(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout


def test_importing_the_cli_loads_no_heavy_library() -> None:
    loaded = set(_python("-c", "import pipeline.cli, sys; print(*sys.modules)").split())
    assert "dashboards.cli" in loaded and "streams.cli" in loaded  # the plugins were loaded too
    assert sorted(loaded & set(HEAVY)) == []


def test_help_lists_every_command_group() -> None:
    registered = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert sorted(registered) == sorted(COMMANDS)
    shown = {
        line.strip("│ ").split(" ")[0] for line in _python("-m", "pipeline", "--help").splitlines()
    }
    assert sorted(set(COMMANDS) - shown) == []
