"""Links in notifications: Grafana dashboards, and signed acknowledge links.

Grafana: dashboards are addressed by UID (``{grafana_url}/d/<uid>?var-…``): a river section's
alert opens ``envmon-rivers`` (``var-section``), an air station's ``envmon-air-station``
(``var-station``), a district or city alert ``envmon-overview``, a digest ``envmon-alerts``; the
time range starts an hour before the alert.

Acknowledge links: ``{public_url}/ack?alert=…&by=…&exp=…&sig=…`` where ``sig`` is the hex
HMAC-SHA256 (RFC 2104) under ``ENVMON_ACK_SECRET`` of ``alert \\n by \\n exp`` and ``exp`` the
expiry in epoch seconds. Anyone holding the link can acknowledge that alert in that name until
it expires; nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from pipeline.messages.results import AlertEvent

HOUR_MS = 3_600_000


def grafana_link(grafana_url: str, event: AlertEvent | None) -> str:
    """The dashboard for one alert (``None``: the alerts dashboard, for digests)."""
    base = grafana_url.rstrip("/")
    if event is None:
        return f"{base}/d/envmon-alerts"
    s = event.subject
    query: dict[str, str | int] = {}
    if s.scope == "station" and s.river:
        uid, query["var-section"] = "envmon-rivers", s.id
    elif s.scope == "station":
        uid, query["var-station"] = "envmon-air-station", s.id
    elif s.scope == "river":
        uid = "envmon-rivers"
    else:
        uid = "envmon-overview"
    query["from"] = event.started_ms - HOUR_MS
    query["to"] = event.ended_ms + HOUR_MS if event.ended_ms else "now"
    return f"{base}/d/{uid}?{urlencode(query)}"


def ack_signature(secret: str, alert_id: str, by: str, expires_s: int) -> str:
    message = f"{alert_id}\n{by}\n{expires_s}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def ack_link(public_url: str, secret: str, alert_id: str, by: str, expires_s: int) -> str:
    sig = ack_signature(secret, alert_id, by, expires_s)
    query = urlencode({"alert": alert_id, "by": by, "exp": expires_s, "sig": sig})
    return f"{public_url.rstrip('/')}/ack?{query}"


@dataclass(frozen=True, slots=True)
class AckRequest:
    alert_id: str
    by: str


def verify_ack(secret: str, params: dict[str, str], now_s: float) -> AckRequest | None:
    """The request a link's query parameters carry, or None when the signature is wrong or the
    link has expired (compared in constant time)."""
    try:
        alert_id, by, sig, expires = (
            params["alert"],
            params["by"],
            params["sig"],
            int(params["exp"]),
        )
    except (KeyError, ValueError):
        return None
    expected = ack_signature(secret, alert_id, by, expires)
    if not hmac.compare_digest(expected, sig) or now_s >= expires:
        return None
    return AckRequest(alert_id, by)
