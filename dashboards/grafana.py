"""Provisioning through Grafana's HTTP API (grafana-client): the InfluxDB data source, the envmon
folder and the dashboards, idempotently, and exporting a dashboard edited in Grafana.

Each object is read first and written only when it differs from what envmon would send, so a
second run sends no change. The data source's secret (the InfluxDB token) cannot be read back:
it is sent when the data source is created or otherwise changed, or always with ``force``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.build import Dashboard
from dashboards.influxql import DATASOURCE_UID
from dashboards.panels import FOLDER_UID
from pipeline.settings import Settings

DATASOURCE_NAME = "envmon InfluxDB"
FOLDER_TITLE = "envmon"
MANAGED_DATASOURCE_KEYS = ("name", "type", "access", "url", "isDefault", "jsonData")
Action = Literal["created", "updated", "unchanged"]


class ProvisionError(RuntimeError):
    """Grafana refused or could not be reached; the message says which request and why."""


@dataclass(frozen=True)
class Step:
    kind: str  # datasource, folder, dashboard
    uid: str
    action: Action

    def __str__(self) -> str:
        return f"{self.kind} {self.uid}: {self.action}"


def datasource_model(settings: Settings) -> dict[str, Any]:
    """The InfluxDB data source, InfluxQL dialect; for 2.x/3.x the database is the DBRP mapping
    ``envmon influx init`` creates and the token goes in an ``Authorization`` header."""
    model: dict[str, Any] = {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": "influxdb",
        "access": "proxy",
        "url": settings.influx_url,
        "isDefault": False,
        "jsonData": {
            "version": "InfluxQL",
            "dbName": settings.influx_database,
            "httpMode": "POST",
            "timeInterval": "10s",
        },
    }
    if settings.influx_token is not None:
        model["jsonData"]["httpHeaderName1"] = "Authorization"
        token = settings.influx_token.get_secret_value()
        model["secureJsonData"] = {"httpHeaderValue1": f"Token {token}"}
    return model


def connect(url: str, token: str | None, timeout: float = 10.0) -> GrafanaApi:
    return GrafanaApi.from_url(url, credential=token, timeout=timeout)


def _missing(exc: GrafanaException) -> bool:
    return isinstance(exc, GrafanaClientError) and exc.status_code == 404


def _request(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except GrafanaException as exc:
        raise ProvisionError(f"{what}: {exc}") from None


def _get(what: str, call: Any, *args: Any) -> Any | None:
    """The object, or None when Grafana answers 404."""
    try:
        return call(*args)
    except GrafanaException as exc:
        if _missing(exc):
            return None
        raise ProvisionError(f"{what}: {exc}") from None


def _unversioned(dashboard: Dashboard) -> Dashboard:
    """A dashboard without what Grafana adds on save (``id``, ``version``)."""
    return {k: v for k, v in dashboard.items() if k not in ("id", "version")}


class Provisioner:
    """``Provisioner(api).run(settings, dashboards)`` -> the steps taken."""

    def __init__(self, api: GrafanaApi) -> None:
        self.api = api

    def run(
        self, settings: Settings, dashboards: dict[str, Dashboard], force: bool = False
    ) -> Iterator[Step]:
        yield self.datasource(datasource_model(settings), force)
        yield self.folder()
        for uid, dashboard in dashboards.items():
            yield self.dashboard(uid, dashboard, force)

    def datasource(self, model: dict[str, Any], force: bool) -> Step:
        uid = model["uid"]
        what = f"data source {uid}"
        current = _get(what, self.api.datasource.get_datasource_by_uid, uid)
        if current is None:
            _request(what, self.api.datasource.create_datasource, model)
            return Step("datasource", uid, "created")
        secrets = set(model.get("secureJsonData", {}))
        same = all(current.get(k) == model[k] for k in MANAGED_DATASOURCE_KEYS)
        if same and secrets <= set(current.get("secureJsonFields") or {}) and not force:
            return Step("datasource", uid, "unchanged")
        body = model | {"version": current.get("version", 0)}
        _request(what, self.api.datasource.update_datasource_by_uid, uid, body)
        return Step("datasource", uid, "updated")

    def folder(self) -> Step:
        what = f"folder {FOLDER_UID}"
        current = _get(what, self.api.folder.get_folder, FOLDER_UID)
        if current is None:
            _request(what, self.api.folder.create_folder, FOLDER_TITLE, uid=FOLDER_UID)
            return Step("folder", FOLDER_UID, "created")
        if current.get("title") == FOLDER_TITLE:
            return Step("folder", FOLDER_UID, "unchanged")
        version = current.get("version")
        _request(
            what, self.api.folder.update_folder, FOLDER_UID, FOLDER_TITLE, version, overwrite=True
        )
        return Step("folder", FOLDER_UID, "updated")

    def dashboard(self, uid: str, dashboard: Dashboard, force: bool) -> Step:
        what = f"dashboard {uid}"
        current = _get(what, self.api.dashboard.get_dashboard, uid)
        if current is not None and not force:
            stored = _unversioned(current.get("dashboard", {}))
            if stored == dashboard and current.get("meta", {}).get("folderUid") == FOLDER_UID:
                return Step("dashboard", uid, "unchanged")
        body = {
            "dashboard": dashboard,
            "folderUid": FOLDER_UID,
            "overwrite": True,
            "message": "envmon dashboards provision",
        }
        _request(what, self.api.dashboard.update_dashboard, body)
        return Step("dashboard", uid, "created" if current is None else "updated")


def export(api: GrafanaApi, uid: str) -> Dashboard:
    """A dashboard as Grafana stores it (after edits in the UI), without ``id`` and ``version``."""
    current = _get(f"dashboard {uid}", api.dashboard.get_dashboard, uid)
    if current is None:
        raise ProvisionError(f"dashboard {uid}: not found in Grafana")
    return _unversioned(current["dashboard"])
