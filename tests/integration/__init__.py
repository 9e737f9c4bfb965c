"""Integration tests: real Tansu, InfluxDB and VictoriaMetrics processes on loopback ports."""
