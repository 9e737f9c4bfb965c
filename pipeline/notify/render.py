"""Notifications and their words: Jinja2 templates in Chinese and English.

A :class:`Notification` is what one subscriber receives at once: one alert, a digest of several,
a repeat reminder, or a test. :class:`Renderer` turns it into a :class:`Rendered` message: a
subject line, plain text, HTML (e-mail) and Markdown (IM robots), from
``templates/<language>/{subject.txt,text.txt,email.html,markdown.md}``. Every alert is shown
with its station/section and district/river names, value against threshold, level and colour,
start time, duration, a Grafana link and, when acknowledge links are on, an acknowledge link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import jinja2

from pipeline.messages.results import AlertEvent
from pipeline.notify.links import ack_link, grafana_link
from pipeline.notify.subscriptions import Subscriber
from pipeline.registry import Registry
from pipeline.timeutil import label, to_datetime

Kind = Literal["alert", "digest", "reminder", "test"]

COLOURS = {"critical": "#D32F2F", "warning": "#F57C00", "info": "#1976D2", "resolved": "#2E7D32"}
"""Level colours (hex), shared by e-mail, webhook and Feishu card headers."""

_WORDS = {
    "zh": {
        "severity": {"critical": "严重", "warning": "警告", "info": "提示"},
        "state": {
            "firing": "告警",
            "escalated": "升级",
            "resolved": "已恢复",
            "flapping": "频繁变化",
        },
        "scope": {"station": "站点", "district": "区", "river": "河流", "city": "全市"},
    },
    "en": {
        "severity": {"critical": "critical", "warning": "warning", "info": "info"},
        "state": {
            "firing": "firing",
            "escalated": "escalated",
            "resolved": "resolved",
            "flapping": "flapping",
        },
        "scope": {"station": "station", "district": "district", "river": "river", "city": "city"},
    },
}


@dataclass(frozen=True, slots=True)
class Item:
    """One alert transition inside a notification."""

    event: AlertEvent
    delivery_key: str
    reminder: bool = False
    acked_by: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    key: str  # idempotency key: the delivery key, or a digest's key
    subscriber: Subscriber
    items: tuple[Item, ...]
    test: bool = False

    @property
    def kind(self) -> Kind:
        if self.test:
            return "test"
        if len(self.items) > 1:
            return "digest"
        return "reminder" if self.items[0].reminder else "alert"


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as the templates see it (words in the subscriber's language)."""

    alert_id: str
    rule: str
    state: str
    state_label: str
    severity: str
    level_label: str
    colour: str
    colour_key: str  # critical | warning | info | resolved
    name: str
    scope_label: str
    place: str  # district and river names
    message: str
    value: float | None
    threshold: float | None
    started: str
    ended: str | None
    duration: str
    reminder: bool
    acked_by: str | None
    grafana_url: str
    ack_url: str | None
    delivery_key: str


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    markdown: Callable[[str], str] = field(repr=False)  # flavour -> Markdown text
    title: str  # short heading for cards and Markdown titles
    colour_key: str
    alerts: tuple[AlertView, ...]


@dataclass(frozen=True, slots=True)
class LinkSettings:
    grafana_url: str
    public_url: str | None = None
    ack_secret: str | None = None
    ack_ttl_s: float = 7 * 86400


def duration_text(ms: int, language: str) -> str:
    """``2小时15分`` / ``2h 15m``; minutes below a day, hours above."""
    minutes = max(0, ms) // 60_000
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    units = ("天", "小时", "分") if language == "zh" else ("d", "h", "m")
    parts = [(days, units[0]), (hours, units[1])] + ([] if days else [(mins, units[2])])
    text = ("" if language == "zh" else " ").join(f"{n}{u}" for n, u in parts if n)
    return text or ("不足1分" if language == "zh" else "<1m")


class Renderer:
    def __init__(self, registry: Registry, links: LinkSettings, tz_name: str) -> None:
        from zoneinfo import ZoneInfo

        self.registry = registry
        self.links = links
        self.tz = ZoneInfo(tz_name)
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("pipeline.notify", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["number"] = _number
        self.env.filters["tint"] = tint
        self.env.filters["heading"] = heading

    def view(self, item: Item, language: str, by: str, now_ms: int) -> AlertView:
        e, words = item.event, _WORDS[language]
        s = e.subject
        colour_key = "resolved" if e.state == "resolved" else e.severity
        end = e.ended_ms if e.ended_ms is not None else (now_ms if item.reminder else e.event_ms)
        return AlertView(
            alert_id=e.alert_id,
            rule=e.rule,
            state=e.state,
            state_label=words["state"][e.state],
            severity=e.severity,
            level_label=words["severity"][e.severity],
            colour=COLOURS[colour_key],
            colour_key=colour_key,
            name=s.name_zh if language == "zh" else s.name_en,
            scope_label=words["scope"][s.scope],
            place=self._place(e, language),
            message=e.message_zh if language == "zh" else e.message_en,
            value=e.value,
            threshold=e.threshold,
            started=label(e.started_ms, self.tz),
            ended=label(e.ended_ms, self.tz) if e.ended_ms is not None else None,
            duration=duration_text(end - e.started_ms, language),
            reminder=item.reminder,
            acked_by=item.acked_by,
            grafana_url=grafana_link(self.links.grafana_url, e),
            ack_url=self._ack_url(e, by, now_ms),
            delivery_key=item.delivery_key,
        )

    def _place(self, e: AlertEvent, language: str) -> str:
        names = []
        if e.subject.district and e.subject.scope != "district":
            d = self.registry.districts.get(e.subject.district)
            names.append(
                (d.name_zh if language == "zh" else d.name_en) if d else e.subject.district
            )
        if e.subject.river and e.subject.scope != "river":
            r = self.registry.rivers.get(e.subject.river)
            names.append((r.name_zh if language == "zh" else r.name_en) if r else e.subject.river)
        return " · ".join(names)

    def _ack_url(self, e: AlertEvent, by: str, now_ms: int) -> str | None:
        links = self.links
        if not links.public_url or not links.ack_secret or e.state == "resolved":
            return None
        expires = int(now_ms / 1000 + links.ack_ttl_s)
        return ack_link(links.public_url, links.ack_secret, e.alert_id, by, expires)

    def render(self, notification: Notification, now_ms: int) -> Rendered:
        sub = notification.subscriber
        lang = sub.language
        views = tuple(self.view(i, lang, sub.name, now_ms) for i in notification.items)
        worst = min(
            views, key=lambda v: ("critical", "warning", "info", "resolved").index(v.colour_key)
        )
        context = {
            "kind": notification.kind,
            "alerts": views,
            "first": views[0],
            "worst": worst,
            "count": len(views),
            "subscriber": sub.name,
            "sent_at": to_datetime(now_ms, self.tz).strftime("%Y-%m-%d %H:%M"),
            "alerts_url": grafana_link(self.links.grafana_url, None),
        }

        def get(name: str, **extra: object) -> str:
            return self.env.get_template(f"{lang}/{name}").render(context | extra).strip()

        title = get("subject.txt")
        return Rendered(
            subject=title,
            text=get("text.txt"),
            html=get("email.html"),
            markdown=lambda flavour: get("markdown.md", flavour=flavour),
            title=title,
            colour_key=worst.colour_key,
            alerts=views,
        )


_FONT = {
    # WeCom markdown knows three font colours: info (green), comment (grey), warning (orange-red)
    "wecom": (
        '<font color="{}">',
        {"critical": "warning", "warning": "warning", "info": "comment", "resolved": "info"},
    ),
    # Feishu lark_md: red, green, grey
    "feishu": (
        "<font color='{}'>",
        {"critical": "red", "warning": "red", "info": "grey", "resolved": "green"},
    ),
}


def tint(text: str, colour_key: str, flavour: str) -> str:
    """``text`` in the level colour where the flavour of Markdown has colours (DingTalk: none)."""
    if flavour not in _FONT:
        return text
    opening, colours = _FONT[flavour]
    return f"{opening.format(colours[colour_key])}{text}</font>"


def heading(text: str, flavour: str) -> str:
    """A heading line; Feishu's lark_md has no headings, so bold there."""
    return f"**{text}**" if flavour == "feishu" else f"### {text}"


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}".rstrip("0").rstrip(".")
