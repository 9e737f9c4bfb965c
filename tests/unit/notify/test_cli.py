"""The notifier's commands where no server is needed: errors name the argument or the setting;
replay namespaces have the notifier off unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()
SUBS = "schema_version: 1\nsubscribers:\n  - {name: duty, channel: {type: log}}\n"


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    path = tmp_path / "subs.yaml"
    path.write_text(SUBS, "utf-8")
    return path


def test_subscriptions_check(subs: Path, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["subscriptions", "check", str(subs)])
    assert ok.exit_code == 0 and "1 subscribers, 0 inhibition rules" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(SUBS.replace("type: log", "type: log, lang: fr"), "utf-8")
    result = runner.invoke(app, ["subscriptions", "check", str(bad)])
    assert result.exit_code == 2
    assert "subscribers[0] 'duty': channel: Object contains unknown field `lang`" in result.output


def test_notify_needs_a_subscriptions_file() -> None:
    result = runner.invoke(app, ["notify"], env={"ENVMON_NAMESPACE": "env"})
    assert result.exit_code == 2 and "ENVMON_SUBSCRIPTIONS_FILE is not set" in result.output


def test_ack_links_need_the_secret(subs: Path) -> None:
    env = {"ENVMON_SUBSCRIPTIONS_FILE": str(subs), "ENVMON_NOTIFIER_PUBLIC_URL": "http://n:8788"}
    result = runner.invoke(app, ["notify"], env=env)
    assert result.exit_code == 2 and "ENVMON_ACK_SECRET is not set" in result.output


def test_replay_namespaces_are_off_unless_asked(subs: Path) -> None:
    env = {"ENVMON_SUBSCRIPTIONS_FILE": str(subs), "ENVMON_NAMESPACE": "replay-42"}
    result = runner.invoke(app, ["notify"], env=env)
    assert result.exit_code == 0
    assert "notifier off for replay namespace replay-42" in result.output


def test_test_message_names_unknown_subscriber(subs: Path) -> None:
    result = runner.invoke(
        app, ["notify", "test", "nobody"], env={"ENVMON_SUBSCRIPTIONS_FILE": str(subs)}
    )
    assert result.exit_code == 2 and "NAME: no subscriber 'nobody'" in result.output
    assert "(known: duty)" in result.output


def test_log_channel_test_message(subs: Path) -> None:
    result = runner.invoke(
        app, ["notify", "test", "duty"], env={"ENVMON_SUBSCRIPTIONS_FILE": str(subs)}
    )
    assert result.exit_code == 0 and "sent a test message to duty (log)" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--match", "colour=red"], "unknown label 'colour'"),
        (["--match", "station"], "'station' is not LABEL=VALUE"),
        (["--match", "station=1356A", "--until", "yesterday"], "--until"),
        (["--match", "station=1356A", "--until", "-1h"], "must be later than --from and than now"),
    ],
)
def test_silence_arguments_are_named(args: list[str], expected: str) -> None:
    full = ["alerts", "silence", *args]
    if "--until" not in args:
        full += ["--until", "+1h"]
    result = runner.invoke(app, [*full, "--reason", "r"])
    assert result.exit_code == 2
    assert expected in result.output
    assert "--match" in result.output or "--until" in result.output


def test_status_without_an_outbox(tmp_path: Path) -> None:
    result = runner.invoke(app, ["notify", "status"], env={"ENVMON_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "no outbox at" in result.output
