"""The subscriptions file: the example validates; every error names the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.notify.subscriptions import (
    DeliveryPolicy,
    SubscriptionsError,
    load_subscriptions,
    parse_subscriptions,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "subscriptions.example.yaml"
SECRETS = {
    name: "value-from-the-environment"
    for name in (
        "NOTIFY_WECOM_CITY_DUTY_URL",
        "NOTIFY_DINGTALK_FUTIAN_URL",
        "NOTIFY_DINGTALK_FUTIAN_SECRET",
        "NOTIFY_FEISHU_RIVERS_URL",
        "NOTIFY_FEISHU_RIVERS_SECRET",
        "NOTIFY_SMTP_PASSWORD",
        "NOTIFY_TICKETS_HMAC_KEY",
    )
}


def test_example_file_is_valid_and_reads_secrets_from_the_environment() -> None:
    subs = load_subscriptions(EXAMPLE, SECRETS)
    assert [s.channel_type for s in subs.subscribers] == [
        "wecom",
        "dingtalk",
        "feishu",
        "email",
        "webhook",
        "log",
    ]
    duty = subs.get("city-duty")
    assert duty is not None
    assert duty.secrets == {"url_env": "value-from-the-environment"}
    assert (duty.group_wait_s, duty.repeat_every_s) == (60, 7200)
    assert duty.inhibit == {"offline_mutes_station", "city_over_district"}
    ops = subs.get("futian-station-ops")
    assert ops is not None and ops.inhibit == {"offline_mutes_station"}  # opt-in rule left out
    assert subs.delivery == DeliveryPolicy(6, 2.0, 600.0)
    assert "value-from-the-environment" not in EXAMPLE.read_text("utf-8")


def test_missing_secret_names_entry_and_variable() -> None:
    env = {k: v for k, v in SECRETS.items() if k != "NOTIFY_SMTP_PASSWORD"}
    with pytest.raises(SubscriptionsError) as err:
        load_subscriptions(EXAMPLE, env)
    assert (
        "subscribers[3] 'daily-mail': channel.password_env: environment variable "
        "NOTIFY_SMTP_PASSWORD is not set"
    ) in str(err.value)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "- {name: a, channel: {type: pager}}",
            "subscribers[0] 'a': channel.type: Invalid value 'pager'",
        ),
        (
            "- {name: a, channel: {type: log}, colour: red}",
            "subscribers[0] 'a': Object contains unknown field `colour`",
        ),
        (
            "- {name: a, channel: {type: log}, group_wait: soon}",
            "subscribers[0] 'a': group_wait: bad duration 'soon'",
        ),
        (
            "- {name: a, channel: {type: log}, filters: {min_severity: high}}",
            "subscribers[0] 'a': filters.min_severity: Invalid enum value 'high'",
        ),
        (
            "- {name: a, channel: {type: log}, quiet_hours: {start: '25:00', end: '07:00'}}",
            "quiet_hours.start: '25:00' is not a clock time",
        ),
        (
            "- {name: a, channel: {type: log}, inhibit: [nope]}",
            "subscribers[0] 'a': inhibit: no inhibition rule named 'nope'",
        ),
        (
            "- {name: a, channel: {type: webhook}}",
            "subscribers[0] 'a': channel: give exactly one of url, url_env",
        ),
        (
            "- {name: a, channel: {type: webhook, url: 'http://x', secret_env: ENVMON_KEY}}",
            "ENVMON_* names are settings",
        ),
        (
            "- {name: a, channel: {type: email, host: h, from: f, to: []}}",
            "channel.to: at least one recipient",
        ),
        (
            "- {name: a, channel: {type: log}}\n  - {name: a, channel: {type: log}}",
            "subscribers: duplicate name 'a'",
        ),
        ("- {name: 'has space', channel: {type: log}}", "is not a simple name"),
    ],
)
def test_errors_name_the_entry(entry: str, expected: str) -> None:
    with pytest.raises(SubscriptionsError) as err:
        parse_subscriptions(f"schema_version: 1\nsubscribers:\n  {entry}\n", "f.yaml", {})
    assert expected in str(err.value)


def test_inhibit_rule_errors_name_the_rule() -> None:
    text = """schema_version: 1
inhibit_rules:
  - {name: r1, source: {rule: x}, target: {colour: red}}
subscribers: []
"""
    with pytest.raises(
        SubscriptionsError, match=r"inhibit_rules\[0\] 'r1': target: unknown label 'colour'"
    ):
        parse_subscriptions(text, "f.yaml", {})


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(SubscriptionsError, match=r"missing\.yaml"):
        load_subscriptions(tmp_path / "missing.yaml", {})
    with pytest.raises(SubscriptionsError, match="not valid YAML"):
        parse_subscriptions("a: [", "f.yaml", {})
    with pytest.raises(SubscriptionsError, match="schema_version 2"):
        parse_subscriptions("schema_version: 2\nsubscribers: []\n", "f.yaml", {})
