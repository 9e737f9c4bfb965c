"""Replay: history from Kafka or the archive into a fresh namespace ``replay-<id>``, and the diff
of two namespaces' results."""
