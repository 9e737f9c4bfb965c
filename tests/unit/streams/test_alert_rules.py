"""Alert rules files: the shipped defaults, what-if files, and errors naming rule and field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from streams.alerts import RulesError, load_rules, parse_rules
from streams.alerts.rules import KINDS, ConcentrationRule, Duration

HOUR_MS = 3_600_000


def _one_rule(body: str) -> str:
    return f"schema_version: 1\nrules:\n  - {body}\n"


def test_default_rules_cover_every_kind() -> None:
    rules = load_rules()
    assert {type(rule) for rule in rules} == set(KINDS.values())
    pm25 = next(r for r in rules if r.name == "pm25_hourly")
    assert isinstance(pm25, ConcentrationRule)
    assert [(lv.severity, lv.threshold, lv.reset) for lv in pm25.levels] == [
        ("warning", 75, 65),
        ("critical", 150, 130),
    ]
    assert pm25.for_ms == HOUR_MS


def test_a_what_if_file_replaces_the_defaults(tmp_path: Path) -> None:
    default = resources.files("streams.alerts").joinpath("default_rules.yaml").read_text("utf-8")
    path = tmp_path / "what_if.yaml"
    path.write_text(default.replace("threshold: 75, reset: 65", "threshold: 60, reset: 50"))
    pm25 = next(r for r in load_rules(path) if r.name == "pm25_hourly")
    assert (pm25.levels[0].threshold, pm25.levels[0].reset) == (60, 50)


@pytest.mark.parametrize(
    ("raw", "ms"),
    [(0, 0), (30, 30_000), ("90s", 90_000), ("15m", 900_000), ("2h", 2 * HOUR_MS)],
)
def test_durations(raw: object, ms: int) -> None:
    assert Duration.parse(raw) == ms


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{name: x, kind: bogus, levels: []}", ["rule 'x'", "field 'kind'", "bogus"]),
        (
            "{name: x, kind: offline, levels: [{severity: warning}]}",
            ["rule 'x'", "field 'levels[0]'", "`threshold`"],
        ),
        (
            "{name: x, kind: offline, for: 5x, levels: [{severity: warning, threshold: 3}]}",
            ["rule 'x'", "field 'for'", "'5x'"],
        ),
        (
            "{name: x, kind: offline, flapping: {window: 1.5h}, levels: []}",
            ["rule 'x'", "field 'flapping.window'", "'1.5h'"],
        ),
        (
            "{name: x, kind: offline, levels: [{severity: severe, threshold: 3}]}",
            ["rule 'x'", "field 'levels[0].severity'"],
        ),
        ("{name: x, kind: offline, levels: []}", ["rule 'x'", "field 'levels'"]),
        (
            "{name: x, kind: offline, levels: [{severity: warning, threshold: three}]}",
            ["rule 'x'", "field 'levels[0].threshold'", "not a number"],
        ),
        (
            "{name: x, kind: offline, levels: [{severity: warning, threshold: 3, reset: 4}]}",
            ["rule 'x'", "field 'levels[0].reset'", "above the threshold"],
        ),
        (
            "{name: x, kind: offline, levels: "
            "[{severity: critical, threshold: 9}, {severity: warning, threshold: 3}]}",
            ["rule 'x'", "field 'levels'", "ascending"],
        ),
        (
            "{name: x, kind: offline, flapping: {high: 1, low: 3}, "
            "levels: [{severity: warning, threshold: 3}]}",
            ["rule 'x'", "field 'flapping'"],
        ),
        (
            "{name: x, kind: concentration, pollutant: pm2.5, "
            "levels: [{severity: warning, threshold: 75}]}",
            ["rule 'x'", "field 'pollutant'", "pm2.5"],
        ),
        (
            "{name: x, kind: water_class, levels: [{severity: warning, threshold: VI}]}",
            ["rule 'x'", "field 'levels[0].threshold'", "'VI'"],
        ),
        (
            "{name: x, kind: water_parameter, parameter: do, "
            "levels: [{severity: warning, threshold: V}]}",
            ["rule 'x'", "field 'parameter'", "'do'"],
        ),
        (
            "{name: x, kind: water_parameter, parameter: nh3n, "
            "levels: [{severity: warning, threshold: 劣V}]}",
            ["rule 'x'", "field 'levels[0].threshold'"],
        ),
        (
            "{name: x, kind: qc_anomaly, levels: [{severity: info, threshold: 6}]}",
            ["rule 'x'", "`of_last`"],
        ),
        (
            "{name: x, kind: offline, treshold: 3, levels: [{severity: warning, threshold: 3}]}",
            ["rule 'x'", "`treshold`"],
        ),
        ("{kind: offline, levels: [{severity: warning, threshold: 3}]}", ["rule '#1'", "`name`"]),
    ],
)
def test_errors_name_the_rule_and_the_field(body: str, expected: list[str]) -> None:
    with pytest.raises(RulesError) as info:
        parse_rules(_one_rule(body), "test.yaml")
    message = str(info.value)
    assert message.startswith("rules file test.yaml: ")
    for part in expected:
        assert part in message


def test_duplicate_rule_names_are_refused() -> None:
    rule = "{name: x, kind: offline, levels: [{severity: warning, threshold: 3}]}"
    text = _one_rule(rule) + f"  - {rule}\n"
    with pytest.raises(RulesError, match="rule 'x': field 'name': duplicate"):
        parse_rules(text)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="schema_version"):
        parse_rules("schema_version: 2\nrules: []\n")
    with pytest.raises(RulesError, match=r"missing\.yaml"):
        load_rules(tmp_path / "missing.yaml")
