"""Settings -> Kafka client configs: the same security settings reach every client."""

from __future__ import annotations

import ssl

import pytest

from pipeline.kafka.config import aiokafka_config, confluent_config, kafka_python_config
from pipeline.kafka.producer import open_producer
from pipeline.settings import load_settings

SASL_SSL = {
    "kafka_bootstrap": "k1:9093, k2:9093",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "envmon",
    "kafka_sasl_password": "s3cr3t-pw",
    "kafka_ssl_cafile": "/etc/envmon/ca.pem",
    "kafka_ssl_certfile": "/etc/envmon/client.pem",
    "kafka_ssl_keyfile": "/etc/envmon/client.key",
}


def test_plaintext_defaults() -> None:
    settings = load_settings(env={}, kafka_bootstrap="a:9092,b:9092")

    assert kafka_python_config(settings) == {
        "bootstrap_servers": ["a:9092", "b:9092"],
        "security_protocol": "PLAINTEXT",
    }
    assert confluent_config(settings) == {
        "bootstrap.servers": "a:9092,b:9092",
        "security.protocol": "PLAINTEXT",
    }
    assert aiokafka_config(settings) == kafka_python_config(settings)


def test_sasl_ssl_passes_through_to_kafka_python() -> None:
    assert kafka_python_config(load_settings(env={}, **SASL_SSL)) == {
        "bootstrap_servers": ["k1:9093", "k2:9093"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "envmon",
        "sasl_plain_password": "s3cr3t-pw",
        "ssl_cafile": "/etc/envmon/ca.pem",
        "ssl_certfile": "/etc/envmon/client.pem",
        "ssl_keyfile": "/etc/envmon/client.key",
    }


def test_sasl_ssl_passes_through_to_confluent() -> None:
    assert confluent_config(load_settings(env={}, **SASL_SSL)) == {
        "bootstrap.servers": "k1:9093,k2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "envmon",
        "sasl.password": "s3cr3t-pw",
        "ssl.ca.location": "/etc/envmon/ca.pem",
        "ssl.certificate.location": "/etc/envmon/client.pem",
        "ssl.key.location": "/etc/envmon/client.key",
    }


def test_aiokafka_gets_an_ssl_context_instead_of_files() -> None:
    settings = load_settings(
        env={},
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="envmon",
        kafka_sasl_password="s3cr3t-pw",
    )

    config = aiokafka_config(settings)

    context = config.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert config == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "envmon",
        "sasl_plain_password": "s3cr3t-pw",
    }


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown producer backend 'rdkafka'"):
        open_producer(load_settings(env={}), "rdkafka")
