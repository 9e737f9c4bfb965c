"""Grafana dashboards as code; depends on ``pipeline`` only."""
