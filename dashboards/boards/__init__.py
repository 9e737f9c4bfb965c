"""One module per dashboard; each has ``UID`` and ``build(ctx: Context) -> Board``. The UIDs
are fixed: dashboards link to each other by them."""

OVERVIEW = "envmon-overview"
AIR_STATION = "envmon-air-station"  # variable ``station``
RIVERS = "envmon-rivers"  # variable ``section``
ALERTS = "envmon-alerts"
PIPELINE = "envmon-pipeline"
