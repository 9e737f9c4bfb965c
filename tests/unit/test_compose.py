"""docker-compose.yml, checked without Docker: the Compose Specification's schema, envmon commands
and settings, healthchecks, dependencies, volumes, ports, profiles, variables and secrets."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline.settings import Settings, env_name, load_settings
from tests.fixtures.deploy import (
    ROOT,
    InvalidCommand,
    MissingVariable,
    Reference,
    interpolate,
    interpolate_tree,
    read_env_file,
    references,
    resolve_envmon,
)

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = ROOT / "tests" / "contracts" / "compose" / "compose-spec.json"
SECRET = re.compile(r"TOKEN|PASSWORD|SECRET", re.IGNORECASE)
PROBE = ["CMD", "python", "-m", "pipeline.stack.probe"]
SETTINGS_VARIABLES = {env_name(field) for field in Settings.model_fields}


@cache
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


def filled_env() -> dict[str, str]:
    """.env.example with every (empty) secret set, as an operator's .env would be."""
    values = read_env_file(ENV_EXAMPLE)
    return {k: (f"test-{k.lower()}-f00d" if SECRET.search(k) else v) for k, v in values.items()}


@cache
def compose() -> dict[str, Any]:
    """The file as Compose sees it after reading .env (the example, secrets filled in)."""
    return interpolate_tree(raw(), filled_env())  # type: ignore[return-value]


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def envmon_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services().items() if s["image"].startswith("envmon:")}


def oneshots() -> set[str]:
    return {n for n, s in services().items() if s.get("restart") == "no"}


def schema_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


# --- the Compose Specification ---------------------------------------------------------------
@pytest.mark.parametrize("document", ["as written", "interpolated"])
def test_validates_against_the_compose_spec(document: str) -> None:
    doc = raw() if document == "as written" else compose()
    errors = [f"{list(e.path)}: {e.message}" for e in schema_validator().iter_errors(doc)]
    assert errors == []


def test_the_schema_check_catches_a_mistake() -> None:
    broken = copy.deepcopy(compose())
    broken["services"]["worker"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["sink"]["depends_on"]["topics"]["condition"] = "service_done"
    messages = [e.message for e in schema_validator().iter_errors(broken)]
    assert any("intervall" in m for m in messages)
    assert any("service_done" in m for m in messages)


# --- envmon services: commands and settings ----------------------------------------------------
def test_every_envmon_service_runs_a_real_envmon_command() -> None:
    commands = {n: resolve_envmon(s["command"]) for n, s in envmon_services().items()}
    assert commands["worker"] == "envmon worker"
    assert commands["sink"] == "envmon sink"
    assert {"envmon topics create", "envmon influx init"} <= set(commands.values())


def test_the_command_check_catches_a_bad_option_or_command() -> None:
    with pytest.raises(InvalidCommand, match="envmon sink: No such option: --health-prot"):
        resolve_envmon(["sink", "--health-prot", "8787"])
    with pytest.raises(InvalidCommand, match="Invalid value for '--timeout'"):
        resolve_envmon(["topics", "create", "--timeout", "soon"])
    with pytest.raises(InvalidCommand, match="no such command 'setup'"):
        resolve_envmon(["influx", "setup"])
    with pytest.raises(InvalidCommand, match="expected a subcommand"):
        resolve_envmon(["topics"])


def test_every_envmon_variable_is_a_setting_with_a_valid_value() -> None:
    for name, service in envmon_services().items():
        env = {k: str(v) for k, v in service["environment"].items() if v is not None}
        unknown = {k for k in env if k.startswith("ENVMON_")} - SETTINGS_VARIABLES
        assert unknown == set(), name
        load_settings(env=env)  # a bad value raises SettingsError naming the variable
    for key in read_env_file(ENV_EXAMPLE):
        if key.startswith("ENVMON_"):
            assert key in SETTINGS_VARIABLES, key


def test_envmon_services_share_one_image_and_reach_the_containers() -> None:
    for name, service in envmon_services().items():
        assert service["build"] == ".", name
        assert service["image"] == envmon_services()["worker"]["image"], name
        assert service["init"] is True, name
        env = service["environment"]
        assert env["ENVMON_KAFKA_BOOTSTRAP"] == "kafka:29092", name
        assert env["ENVMON_INFLUX_URL"] == "http://influxdb:8086", name


# --- healthchecks and order ----------------------------------------------------------------------
def test_every_service_has_a_healthcheck_or_is_a_oneshot() -> None:
    for name, service in services().items():
        check = service.get("healthcheck", {})
        if name in oneshots():
            assert check == {"disable": True}, name
        else:
            assert check.get("test") and not check.get("disable"), name


def test_envmon_services_probe_their_own_health_endpoint() -> None:
    for name, service in envmon_services().items():
        if name in oneshots():
            continue
        test = service["healthcheck"]["test"]
        assert test[:4] == PROBE, name
        for url in test[4:]:
            port = url.rsplit(":", 1)[1].split("/")[0]
            listens = [*service["command"], *map(str, service["environment"].values())]
            if url.startswith("http://127.0.0.1"):  # its own endpoint: port set by command or env
                assert port in listens, (name, url)
            else:  # another service's port
                host = url.split("//")[1].split(":")[0]
                assert host in services(), (name, url)


def test_dependencies_exist_and_their_conditions_make_sense() -> None:
    for name, service in services().items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services(), (name, target)
            condition = spec["condition"]
            if condition == "service_completed_successfully":
                assert target in oneshots(), (name, target)
            else:
                assert condition == "service_healthy", (name, target)
                assert "test" in services()[target]["healthcheck"], (name, target)
    for name in envmon_services().keys() - {"topics", "influx-init", "sites"}:  # no Kafka needed
        depends = services()[name]["depends_on"]
        assert depends["topics"]["condition"] == "service_completed_successfully", name
    assert services()["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert "influx-init" in services()["sink"]["depends_on"]
    assert "influx-init" in services()["sites"]["depends_on"]


def test_no_dependency_cycle() -> None:
    def visit(name: str, seen: tuple[str, ...]) -> None:
        assert name not in seen, " -> ".join((*seen, name))
        for target in services()[name].get("depends_on", {}):
            visit(target, (*seen, name))

    for name in services():
        visit(name, ())


def test_profiles_only_the_demo_and_nothing_default_needs_it() -> None:
    profiled = {n for n, s in services().items() if s.get("profiles")}
    assert {p for n in profiled for p in services()[n]["profiles"]} == {"demo"}
    assert "simulator" in profiled
    for name, service in services().items():
        if name not in profiled:
            assert not set(service.get("depends_on", {})) & profiled, name
    commands = [resolve_envmon(services()[n]["command"]) for n in profiled]
    assert any(c.startswith("envmon simulate") for c in commands)


# --- volumes and ports -------------------------------------------------------------------------
def test_named_volumes_are_declared_used_and_persist_the_state() -> None:
    used: dict[str, list[str]] = {}
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (ROOT / source).exists(), (name, source)
            else:
                used.setdefault(source, []).append(f"{name}:{target}")
    assert set(used) == set(compose()["volumes"])
    assert used["kafka-data"] == ["kafka:/var/lib/kafka/data"]
    assert used["influxdb-data"] == ["influxdb:/var/lib/influxdb2"]
    assert used["grafana-data"] == ["grafana:/var/lib/grafana"]
    assert used["archive"] == ["archive:/var/lib/envmon/archive"]
    assert used["notifier-outbox"] == ["notifier:/var/lib/envmon/notifier"]
    for name in ("worker", "simulator"):
        assert "volumes" not in services()[name], name


def test_envmon_state_lives_on_its_volumes_owned_by_the_image_user() -> None:
    notifier = services()["notifier"]["environment"]
    archive = services()["archive"]["environment"]
    assert notifier["ENVMON_NOTIFIER_OUTBOX"].startswith("/var/lib/envmon/notifier/")
    assert archive["ENVMON_ARCHIVE_DIR"] == "/var/lib/envmon/archive"
    # a named volume starts with the image's directory and its owner: the Dockerfile makes them
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    for name, service in envmon_services().items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if not source.startswith("."):
                assert f" {target}" in dockerfile.split("mkdir -p", 1)[1].split("\n")[0], name


def test_the_notifier_gets_valid_subscriptions_and_its_secrets() -> None:
    from pipeline.notify.subscriptions import load_subscriptions

    notifier = services()["notifier"]
    mounts = dict(v.split(":")[:2] for v in notifier["volumes"])
    host_file = next(h for h, c in mounts.items() if c == "/etc/envmon/subscriptions.yaml")
    assert notifier["environment"]["ENVMON_SUBSCRIPTIONS_FILE"] == "/etc/envmon/subscriptions.yaml"
    subscriptions = load_subscriptions(ROOT / host_file)  # the default: the log channel
    assert [type(s.channel).__name__ for s in subscriptions.subscribers] == ["LogConfig"]
    assert notifier["env_file"] == [{"path": ".env.notifier", "required": False}]
    assert notifier["environment"]["ENVMON_NOTIFIER_WEB_PORT"] == "8788"


def test_published_ports_are_unique_and_the_worker_scales() -> None:
    published: dict[str, str] = {}
    for name, service in services().items():
        for port in service.get("ports", []):
            bind, host, _container = port.split(":")
            # HOST_BIND's default: this machine only; HJ 212 loggers connect from the field
            assert bind == ("0.0.0.0" if name == "gateway" else "127.0.0.1"), (name, port)
            assert host not in published, f"{name} and {published.get(host)} publish {host}"
            published[host] = name
    assert {published.get(p) for p in ("9092", "8086", "3000")} == {"kafka", "influxdb", "grafana"}
    worker = services()["worker"]
    assert "container_name" not in worker and "ports" not in worker


def test_kafka_listens_for_containers_and_for_the_host() -> None:
    env = services()["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one node
    advertised = dict(x.split("://") for x in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised == {"INTERNAL": "kafka:29092", "HOST": "localhost:9092"}
    listeners = dict(x.split("://") for x in env["KAFKA_LISTENERS"].split(","))
    assert set(listeners) == set(advertised) | {"CONTROLLER"}
    assert services()["kafka"]["ports"] == ["127.0.0.1:9092:9092"]
    assert listeners["HOST"] == ":9092"


# --- variables and secrets -----------------------------------------------------------------------
def strings(node: object) -> list[str]:
    """Every string in a parsed YAML document (keys too; comments are gone)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*strings(k), *strings(v))]
    return [s for v in node for s in strings(v)] if isinstance(node, list) else []


def used_variables() -> list[Reference]:
    """Every variable reference in the file's values (comments are not interpolated)."""
    return [ref for text in strings(raw()) for ref in references(text)]


def test_every_variable_is_in_env_example_and_every_example_is_used() -> None:
    used = {r.name for r in used_variables()}
    listed = set(read_env_file(ENV_EXAMPLE))
    assert used - listed == set(), "used in docker-compose.yml, missing from .env.example"
    assert listed - used == set(), "in .env.example but not used by docker-compose.yml"


def test_every_example_variable_has_a_comment() -> None:
    """Each paragraph of .env.example starts with a comment; its variables follow it."""
    for paragraph in ENV_EXAMPLE.read_text("utf-8").split("\n\n"):
        lines = paragraph.strip().splitlines()
        assert lines[0].startswith("#"), f"no comment above {lines[0]}"


def test_no_secret_has_a_default() -> None:
    secrets = {r.name for r in used_variables() if SECRET.search(r.name)}
    assert {"ENVMON_INFLUX_TOKEN", "INFLUXDB_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= secrets
    for ref in used_variables():
        if SECRET.search(ref.name):
            assert ref.op == ":?" and ref.arg, f"{ref.name} must be ${{{ref.name}:?message}}"
    for key, value in read_env_file(ENV_EXAMPLE).items():
        if SECRET.search(key):
            assert value == "", f".env.example gives {key} a value"
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            assert field.default is None, name


def test_a_missing_secret_stops_compose_with_a_message() -> None:
    env = filled_env()
    env["GRAFANA_ADMIN_PASSWORD"] = ""
    with pytest.raises(MissingVariable, match="GRAFANA_ADMIN_PASSWORD: set GRAFANA_ADMIN"):
        interpolate_tree(raw(), env)


def test_grafana_takes_its_admin_password_from_the_environment() -> None:
    env = raw()["services"]["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    influx = raw()["services"]["influxdb"]["environment"]
    assert influx["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for key in ("ORG", "BUCKET", "ADMIN_TOKEN", "PASSWORD"):
        assert interpolate(influx[f"DOCKER_INFLUXDB_INIT_{key}"], filled_env())


def test_grafana_is_provisioned_with_envmons_files() -> None:
    grafana = services()["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert mounts["./dashboards/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load((ROOT / "dashboards/provisioning/dashboards/envmon.yaml").read_text())
    dashboards_dir = provider["providers"][0]["options"]["path"]
    assert mounts["./dashboards/json"] == dashboards_dir
    assert list((ROOT / "dashboards/json").glob("*.json")), "no dashboard to provision"
    for path in (ROOT / "dashboards/provisioning").rglob("*.yaml"):
        document = yaml.safe_load(path.read_text("utf-8"))
        for ref in (r for text in strings(document) for r in references(text)):  # from its env
            assert grafana["environment"].get(ref.name), f"{path.name}: {ref.name} not passed"
    assert grafana["environment"]["ENVMON_INFLUX_URL"] == "http://influxdb:8086"


def test_the_gateway_listens_where_it_is_published() -> None:
    gateway = services()["gateway"]
    assert resolve_envmon(gateway["command"]) == "envmon gateway hj212"
    port = gateway["command"][gateway["command"].index("--port") + 1]
    assert gateway["ports"] == [f"0.0.0.0:9212:{port}"]
    assert gateway["command"][gateway["command"].index("--host") + 1] == "0.0.0.0"
    mounts = dict(v.split(":")[:2] for v in gateway["volumes"])
    devices = gateway["environment"]["ENVMON_HJ212_DEVICES_FILE"]
    host_file = next(h for h, c in mounts.items() if c == devices)
    assert (ROOT / host_file).is_file()
