"""The subscriptions file: who gets which alerts, on which channel, when and how often.

YAML ``{schema_version: 1, delivery, inhibit_rules, subscribers}`` (see
``subscriptions.example.yaml`` and docs/notifier.md). Secrets never stand in the file: a channel
names the environment variable that holds each one (``secret_env``, ``url_env``,
``password_env``), read when the file is loaded. Every error names the entry and the field, e.g.
``subscribers[2] 'futian-duty': channel.secret_env: ENVMON_HOOK_SECRET is not set``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from pipeline.messages.notify import SILENCE_LABELS
from pipeline.timeutil import parse_duration

Severity = Literal["info", "warning", "critical"]
State = Literal["firing", "escalated", "resolved", "flapping"]
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
STATES: tuple[State, ...] = ("firing", "escalated", "resolved", "flapping")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SubscriptionsError(ValueError):
    """The subscriptions file is unreadable or wrong; the message names the entry and field."""


# --- the file as written ------------------------------------------------------------------


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class _Channel(_Strict, frozen=True, tag_field="type"):
    pass


class WebhookConfig(_Channel, frozen=True, tag="webhook"):
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None  # HMAC-SHA256 key of the signature header
    timeout: float | str = 10


class EmailConfig(_Channel, frozen=True, tag="email"):
    host: str
    sender: str = msgspec.field(name="from")
    to: list[str]
    port: int | None = None  # 587 starttls, 465 ssl, 25 none
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    ca_file: str | None = None  # trust this CA (a private mail server); system CAs otherwise
    timeout: float | str = 20


class WeComConfig(_Channel, frozen=True, tag="wecom"):
    url: str | None = None
    url_env: str | None = None  # https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
    timeout: float | str = 10


class DingTalkConfig(_Channel, frozen=True, tag="dingtalk"):
    url: str | None = None
    url_env: str | None = None  # https://oapi.dingtalk.com/robot/send?access_token=…
    secret_env: str | None = None  # the robot's 加签 secret (SEC…)
    at_mobiles: list[str] = []
    timeout: float | str = 10


class FeishuConfig(_Channel, frozen=True, tag="feishu"):
    url: str | None = None
    url_env: str | None = None  # https://open.feishu.cn/open-apis/bot/v2/hook/…
    secret_env: str | None = None  # the bot's 签名校验 secret
    timeout: float | str = 10


class LogConfig(_Channel, frozen=True, tag="log"):
    level: Literal["info", "warning"] = "info"


ChannelConfig = (
    WebhookConfig | EmailConfig | WeComConfig | DingTalkConfig | FeishuConfig | LogConfig
)


class _Filters(_Strict, frozen=True):
    districts: list[str] = []
    stations: list[str] = []
    rivers: list[str] = []
    sections: list[str] = []
    rules: list[str] = []
    min_severity: Severity = "info"
    states: tuple[State, ...] = STATES


class _QuietHours(_Strict, frozen=True):
    start: str
    end: str
    allow_critical: bool = True


class _RateLimit(_Strict, frozen=True):
    max: int
    per: float | str


class _Subscriber(_Strict, frozen=True):
    name: str
    channel: ChannelConfig
    language: Literal["zh", "en"] = "zh"
    filters: _Filters = _Filters()
    quiet_hours: _QuietHours | None = None
    group_wait: float | str = 0
    repeat_every: float | str | None = None
    rate_limit: _RateLimit | None = None
    inhibit: list[str] | None = None  # inhibition rules that apply; None: every non-opt-in rule


class _InhibitRule(_Strict, frozen=True):
    name: str
    source: dict[str, str]
    target: dict[str, str]
    equal: list[str] = []
    opt_in: bool = False


class _Delivery(_Strict, frozen=True):
    attempts: int = 6
    backoff: float | str = 2
    backoff_max: float | str = "10m"


# --- the validated, resolved form ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    districts: frozenset[str]
    stations: frozenset[str]
    rivers: frozenset[str]
    sections: frozenset[str]
    rules: frozenset[str]
    min_severity: Severity
    states: frozenset[str]


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local clock times; ``start > end`` spans midnight (22:00–07:00)."""

    start: time
    end: time
    allow_critical: bool


@dataclass(frozen=True, slots=True)
class RateLimit:
    max: int
    per_s: float


@dataclass(frozen=True, slots=True)
class Subscriber:
    name: str
    channel: ChannelConfig
    secrets: Mapping[str, str]  # field name (``secret_env``, …) -> value read from the environment
    language: Literal["zh", "en"]
    filters: Filters
    quiet_hours: QuietHours | None
    group_wait_s: float
    repeat_every_s: float | None
    rate_limit: RateLimit | None
    inhibit: frozenset[str]

    @property
    def channel_type(self) -> str:
        return type(self.channel).__struct_config__.tag  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """While an alert matching ``source`` is active, alerts matching ``target`` whose ``equal``
    labels have the same values are held back (an alert never inhibits itself)."""

    name: str
    source: Mapping[str, str]
    target: Mapping[str, str]
    equal: tuple[str, ...]
    opt_in: bool


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Tries per notification; between them ``backoff`` s doubling up to ``backoff_max``."""

    attempts: int = 6
    backoff_s: float = 2.0
    backoff_max_s: float = 600.0

    def delay(self, failures: int, jitter: float) -> float:
        """Seconds before try ``failures + 1``; ``jitter`` in [0, 1) spreads it over ±25 %."""
        base = min(self.backoff_max_s, self.backoff_s * 2 ** (failures - 1))
        return base * (0.75 + jitter / 2)


@dataclass(frozen=True, slots=True)
class Subscriptions:
    subscribers: tuple[Subscriber, ...]
    inhibit_rules: tuple[InhibitRule, ...]
    delivery: DeliveryPolicy
    source: str

    def get(self, name: str) -> Subscriber | None:
        return next((s for s in self.subscribers if s.name == name), None)


class _File(_Strict, frozen=True):
    schema_version: int
    subscribers: list[Any]
    inhibit_rules: list[Any] = []
    delivery: _Delivery = _Delivery()


def load_subscriptions(path: Path, env: Mapping[str, str] | None = None) -> Subscriptions:
    """Read and validate ``path``; secrets from ``env`` (default ``os.environ``).

    Raises :class:`SubscriptionsError` listing every problem, each naming its entry.
    """
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise SubscriptionsError(f"subscriptions file {path}: {exc.strerror}") from None
    return parse_subscriptions(text, str(path), os.environ if env is None else env)


def parse_subscriptions(text: str, source: str, env: Mapping[str, str]) -> Subscriptions:
    try:
        doc = yaml.safe_load(text)
        raw = msgspec.convert(doc, _File)
    except yaml.YAMLError as exc:
        raise SubscriptionsError(f"subscriptions file {source}: not valid YAML ({exc})") from None
    except msgspec.ValidationError as exc:
        raise SubscriptionsError(f"subscriptions file {source}: {_where(exc)}") from None
    if raw.schema_version != 1:
        raise SubscriptionsError(
            f"subscriptions file {source}: schema_version {raw.schema_version}; this reads 1"
        )
    problems: list[str] = []
    delivery = _delivery(raw.delivery, problems)
    rules = _entries(raw.inhibit_rules, _InhibitRule, "inhibit_rules", _inhibit_rule, problems)
    rule_names = {r.name for r in rules}
    opt_out = frozenset(r.name for r in rules if not r.opt_in)
    subscribers = _entries(
        raw.subscribers,
        _Subscriber,
        "subscribers",
        lambda s, p: _subscriber(s, p, env, rule_names, opt_out),
        problems,
    )
    for kind, items in (("subscribers", subscribers), ("inhibit_rules", rules)):
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                problems.append(f"{kind}: duplicate name {item.name!r}")
            seen.add(item.name)
    if problems:
        listed = "\n  ".join(problems)
        raise SubscriptionsError(f"subscriptions file {source}:\n  {listed}")
    return Subscriptions(tuple(subscribers), tuple(rules), delivery, source)


def _where(exc: msgspec.ValidationError) -> str:
    message, _, path = str(exc).partition(" - at `$")
    return f"{path.rstrip('`').lstrip('.') or 'top level'}: {message}" if path else message


def _entries(items, struct, kind, build, problems):  # type: ignore[no-untyped-def]
    """Convert and build each entry of a list, collecting problems named ``kind[i] 'name'``."""
    built = []
    for i, item in enumerate(items):
        label = f"{kind}[{i}]"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" {item['name']!r}"
        try:
            entry = msgspec.convert(item, struct)
        except msgspec.ValidationError as exc:
            problems.append(f"{label}: {_where(exc)}")
            continue
        own: list[str] = []
        result = build(entry, own)
        problems.extend(f"{label}: {p}" for p in own)
        if not own:
            built.append(result)
    return built


def _duration(raw: object, field: str, problems: list[str]) -> float:
    try:
        return parse_duration(raw)
    except ValueError as exc:
        problems.append(f"{field}: {exc}")
        return 0.0


def _delivery(raw: _Delivery, problems: list[str]) -> DeliveryPolicy:
    if raw.attempts < 1:
        problems.append("delivery.attempts: at least 1")
    return DeliveryPolicy(
        raw.attempts,
        _duration(raw.backoff, "delivery.backoff", problems),
        _duration(raw.backoff_max, "delivery.backoff_max", problems),
    )


def _matchers(matchers: Mapping[str, str], field: str, problems: list[str]) -> None:
    for label in matchers:
        if label not in SILENCE_LABELS:
            problems.append(
                f"{field}: unknown label {label!r} (one of {', '.join(SILENCE_LABELS)})"
            )


def _inhibit_rule(raw: _InhibitRule, problems: list[str]) -> InhibitRule:
    if not _NAME.match(raw.name):
        problems.append(f"name: {raw.name!r} is not a simple name")
    if not raw.source:
        problems.append("source: at least one matcher")
    _matchers(raw.source, "source", problems)
    _matchers(raw.target, "target", problems)
    _matchers(dict.fromkeys(raw.equal, ""), "equal", problems)
    return InhibitRule(raw.name, raw.source, raw.target, tuple(raw.equal), raw.opt_in)


def _clock(text: str, field: str, problems: list[str]) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        problems.append(f"{field}: {text!r} is not a clock time like 22:00")
        return time(0)


def _subscriber(
    raw: _Subscriber,
    problems: list[str],
    env: Mapping[str, str],
    rule_names: set[str],
    default_rules: frozenset[str],
) -> Subscriber:
    if not _NAME.match(raw.name):
        problems.append(f"name: {raw.name!r} is not a simple name (letters, digits, _ . -)")
    secrets = _channel_secrets(raw.channel, env, problems)
    quiet = None
    if raw.quiet_hours is not None:
        q = raw.quiet_hours
        quiet = QuietHours(
            _clock(q.start, "quiet_hours.start", problems),
            _clock(q.end, "quiet_hours.end", problems),
            q.allow_critical,
        )
        if quiet.start == quiet.end:
            problems.append("quiet_hours: start and end are the same time")
    rate = None
    if raw.rate_limit is not None:
        if raw.rate_limit.max < 1:
            problems.append("rate_limit.max: at least 1")
        rate = RateLimit(
            raw.rate_limit.max, _duration(raw.rate_limit.per, "rate_limit.per", problems)
        )
    for name in raw.inhibit or ():
        if name not in rule_names:
            problems.append(f"inhibit: no inhibition rule named {name!r}")
    f = raw.filters
    repeat = raw.repeat_every
    return Subscriber(
        name=raw.name,
        channel=raw.channel,
        secrets=secrets,
        language=raw.language,
        filters=Filters(
            frozenset(f.districts),
            frozenset(f.stations),
            frozenset(f.rivers),
            frozenset(f.sections),
            frozenset(f.rules),
            f.min_severity,
            frozenset(f.states),
        ),
        quiet_hours=quiet,
        group_wait_s=_duration(raw.group_wait, "group_wait", problems),
        repeat_every_s=None if repeat is None else _duration(repeat, "repeat_every", problems),
        rate_limit=rate,
        inhibit=default_rules if raw.inhibit is None else frozenset(raw.inhibit),
    )


_URL_CHANNELS = (WebhookConfig, WeComConfig, DingTalkConfig, FeishuConfig)


def _channel_secrets(
    channel: ChannelConfig, env: Mapping[str, str], problems: list[str]
) -> dict[str, str]:
    """The values of the ``*_env`` fields, read from ``env``; a missing variable is a problem."""
    secrets: dict[str, str] = {}
    for field in ("url_env", "secret_env", "password_env"):
        variable = getattr(channel, field, None)
        if variable is None:
            continue
        value = env.get(variable, "")
        if variable.startswith("ENVMON_"):
            problems.append(
                f"channel.{field}: {variable}: ENVMON_* names are settings; use another"
            )
        elif not value:
            problems.append(f"channel.{field}: environment variable {variable} is not set")
        secrets[field] = value
    if isinstance(channel, _URL_CHANNELS) and (channel.url is None) == (channel.url_env is None):
        problems.append("channel: give exactly one of url, url_env")
    if isinstance(channel, EmailConfig):
        if not channel.to:
            problems.append("channel.to: at least one recipient")
        if (channel.username is None) != (channel.password_env is None):
            problems.append("channel: username and password_env go together")
    timeout = getattr(channel, "timeout", None)
    if timeout is not None:
        _duration(timeout, "channel.timeout", problems)
    return secrets
