"""Kafka edges: client configuration, topic administration and the producer layer."""
