"""One frozen settings object, read once from ``ENVMON_*`` variables and an optional TOML file.

Environment variables win over the file. Secrets are ``SecretStr`` (masked in repr and logs) and
placeholder secrets such as ``changeme`` are refused. A bad value raises :class:`SettingsError`
naming the variable and what is expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

ENV_PREFIX = "ENVMON_"
PLACEHOLDER_SECRETS = frozenset({"changeme", "changethis", "secret", "password", "admin", "token"})


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable and what is expected."""


class Settings(BaseModel):
    """Every envmon setting. Field ``x`` is read from ``ENVMON_X`` or key ``x`` of the TOML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Broker
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,host:port]"
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    # Topics
    namespace: str = Field(
        "env", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="topic namespace {ns}"
    )
    partitions: int = Field(6, ge=1, le=1024, description="partitions of each new topic")
    replication_factor: int = Field(1, ge=1, le=7)
    raw_retention_days: float = Field(7, gt=0, description="retention of raw reading topics")
    # InfluxDB
    influx_url: str = Field("http://127.0.0.1:8086", pattern=r"^https?://")
    influx_api: Literal["v1", "v2"] = Field(
        "v2", description="v2 write API (1.8+, 2.x, 3.x) or v1 /write"
    )
    influx_org: str = "envmon"
    influx_bucket: str = "envmon"
    influx_database: str = "envmon"
    influx_token: SecretStr | None = None
    # Grafana
    grafana_url: str = Field("http://127.0.0.1:3000", pattern=r"^https?://")
    grafana_token: SecretStr | None = None
    # Dashboards (envmon dashboards)
    dashboard_language: Literal["zh", "en"] = Field(
        "zh", description="dashboard titles and labels: zh (Chinese with English) or en"
    )
    # Domain
    timezone: str = Field("Asia/Shanghai", description="IANA zone of clock hours and natural days")
    standard: Literal["hj633", "hj633-2012", "hj633-2026", "epa"] = "hj633"
    registry_file: Path | None = Field(
        None, description="station registry YAML; bundled Shenzhen if unset"
    )
    producer_backend: Literal["kafka-python", "confluent"] = "kafka-python"
    producer_idempotent: bool = Field(True, description="no duplicates on retry; off: faster")
    # Stream agents (envmon worker)
    grace_minutes: float = Field(
        15, ge=0, le=24 * 60, description="late readings inside update an hour"
    )
    alert_rules_file: Path | None = Field(
        None, description="alert rules YAML; the shipped set if unset"
    )
    table_store: Literal["memory", "rocksdb"] = Field("rocksdb", description="Faust table store")
    worker_web_port: int = Field(
        6066, ge=1, le=65535, description="worker's health and metrics port"
    )
    worker_web_host: str = Field(
        "127.0.0.1", min_length=1, description="address the worker's web server binds"
    )
    worker_idle_partition_s: float = Field(
        300,
        gt=0,
        le=24 * 3600,
        description="a readings partition this long without messages "
        "follows the other partitions' event time",
    )
    consumer_session_timeout_s: float = Field(
        10, gt=0, le=300, description="consumer group session"
    )
    state_dir: Path = Field(Path(".envmon"), description="state of the one-machine stack")
    # Archive and replay (envmon archive, envmon replay; docs/replay.md)
    archive_dir: Path = Field(
        Path(".envmon/archive"), description="daily files of raw readings and dead letters"
    )
    replay_influx_database: str = Field(
        "envmon_replay", description="v1 database of replay-* namespaces' points (tag run=<id>)"
    )
    replay_influx_bucket: str = Field(
        "envmon_replay", description="v2 bucket of replay-* namespaces' points (tag run=<id>)"
    )
    # Notifier (envmon notify): subscriptions, outbox, web endpoint, acknowledge links
    subscriptions_file: Path | None = Field(None, description="the notifier's subscriptions YAML")
    notifier_outbox: Path | None = Field(
        None, description="SQLite outbox; {state_dir}/notifier-{namespace}.sqlite if unset"
    )
    notifier_web_port: int = Field(
        8788, ge=0, le=65535, description="notifier's health, metrics and acknowledge port"
    )
    notifier_public_url: str | None = Field(
        None, pattern=r"^https?://", description="base URL of acknowledge links; unset: no links"
    )
    ack_secret: SecretStr | None = None  # signs acknowledge links; required with the public URL
    notifier_ack_ttl_h: float = Field(168, gt=0, description="acknowledge links expire after")
    notifier_allow_replay: bool = Field(False, description="notify from replay-* namespaces too")
    # HJ 212-2017 gateway (envmon gateway hj212; docs/hj212.md)
    hj212_host: str = Field("0.0.0.0", description="gateway listen address (loggers connect here)")
    hj212_port: int = Field(9212, ge=0, le=65535, description="gateway TCP port")
    hj212_health_port: int = Field(
        8789, ge=0, le=65535, description="gateway's health and metrics port"
    )
    hj212_devices_file: Path | None = Field(
        None, description="HJ 212 device map YAML (MN, password, units); bundled demo if unset"
    )
    hj212_max_segment: int = Field(
        1024, ge=1, le=9999, description="largest data segment accepted, bytes (HJ 212: 1024)"
    )
    hj212_max_connections_per_ip: int = Field(
        16, ge=1, le=10_000, description="open connections per peer address"
    )
    hj212_idle_timeout_s: float = Field(
        600, gt=0, le=86_400, description="close a connection silent this long"
    )
    hj212_read_buffer_bytes: int = Field(
        65_536, ge=1024, le=16 << 20, description="bytes read per connection at a time"
    )
    hj212_split_timeout_s: float = Field(
        120, gt=0, le=3600, description="wait this long for the missing parts of a split record"
    )
    hj212_lenient_terminator: bool = Field(
        False, description="also end frames with a lone LF or CR (non-conforming loggers)"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("kafka_sasl_password", "influx_token", "grafana_token", "ack_secret")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is a placeholder; set a real secret")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def masked(self) -> dict[str, Any]:
        """The settings as plain values, secrets shown as ``**********``."""
        return {
            name: ("**********" if isinstance(v, SecretStr) else v)
            for name, v in ((n, getattr(self, n)) for n in type(self).model_fields)
        }


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read settings once: the TOML file (``config_file`` or ``ENVMON_CONFIG``), then the
    environment, then ``overrides``; later sources win."""
    env = os.environ if env is None else env
    path = config_file or (Path(env["ENVMON_CONFIG"]) if env.get("ENVMON_CONFIG") else None)
    from_file = _read_toml(path) if path else {}
    from_env = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key != "ENVMON_CONFIG"
    }
    values = {**from_file, **from_env, **overrides}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, path)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise SettingsError(f"config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: not valid TOML ({exc})") from None


def _explain(exc: ValidationError, path: Path | None) -> str:
    lines = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        where = env_name(field) + (f" (or `{field}` in {path})" if path else "")
        if err["type"] == "extra_forbidden":
            where = f"{env_name(field)}" + (f" / `{field}` in {path}" if path else "")
            lines.append(f"{where}: unknown setting")
            continue
        got = err.get("input")
        shown = (
            "**********" if "secret" in field or "password" in field or "token" in field else got
        )
        lines.append(f"{where}={shown!r}: {err['msg']}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def with_overrides(settings: Settings, **overrides: Any) -> Settings:
    """A copy of ``settings`` with command-line ``overrides`` (None means not given), validated."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        # exclude_unset keeps ``model_fields_set`` meaning "given by the user"
        return Settings.model_validate({**settings.model_dump(exclude_unset=True), **given})
    except ValidationError as exc:
        raise SettingsError(_explain(exc, None)) from None
