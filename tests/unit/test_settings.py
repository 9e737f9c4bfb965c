from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.settings import Settings, SettingsError, load_settings


def test_defaults() -> None:
    s = load_settings(env={})
    assert s.namespace == "env"
    assert s.timezone == "Asia/Shanghai"
    assert s.standard == "hj633"
    assert s.influx_token is None


def test_environment_wins_over_file(tmp_path: Path) -> None:
    cfg = tmp_path / "envmon.toml"
    cfg.write_text('namespace = "fromfile"\npartitions = 3\n', "utf-8")
    s = load_settings(cfg, env={"ENVMON_NAMESPACE": "fromenv"})
    assert (s.namespace, s.partitions) == ("fromenv", 3)


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "envmon.toml"
    cfg.write_text('standard = "epa"\n', "utf-8")
    assert load_settings(env={"ENVMON_CONFIG": str(cfg)}).standard == "epa"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ENVMON_PARTITIONS", "many", "ENVMON_PARTITIONS='many': Input should be a valid integer"),
        ("ENVMON_NAMESPACE", "Has Space", "ENVMON_NAMESPACE='Has Space': String should match"),
        ("ENVMON_TIMEZONE", "Mars/Olympus", "unknown IANA time zone 'Mars/Olympus'"),
        ("ENVMON_STANDARD", "who", "ENVMON_STANDARD='who': Input should be 'hj633'"),
        ("ENVMON_INFLUX_URL", "localhost:8086", "ENVMON_INFLUX_URL='localhost:8086'"),
        ("ENVMON_NO_SUCH_THING", "1", "ENVMON_NO_SUCH_THING: unknown setting"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env={variable: value})
    assert expected in str(err.value)


def test_placeholder_secret_refused_and_masked() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env={"ENVMON_INFLUX_TOKEN": "changeme"})
    assert "ENVMON_INFLUX_TOKEN='**********'" in str(err.value)
    assert "changeme" not in str(err.value)


def test_secret_masked_in_repr_and_dump() -> None:
    s = load_settings(env={"ENVMON_GRAFANA_TOKEN": "glsa_real_token_123"})
    assert "glsa_real_token_123" not in repr(s)
    assert s.masked()["grafana_token"] == "**********"
    assert s.grafana_token is not None
    assert s.grafana_token.get_secret_value() == "glsa_real_token_123"


def test_frozen() -> None:
    s = load_settings(env={})
    with pytest.raises(ValidationError):
        s.namespace = "other"  # type: ignore[misc]


def test_bad_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("namespace = ", "utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(bad, env={})
    with pytest.raises(SettingsError, match=r"missing\.toml"):
        load_settings(tmp_path / "missing.toml", env={})


def test_every_field_is_documented_in_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    missing = [
        f"ENVMON_{n.upper()}" for n in Settings.model_fields if f"ENVMON_{n.upper()}" not in readme
    ]
    assert missing == []
