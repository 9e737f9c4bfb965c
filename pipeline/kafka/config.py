"""Settings -> client configuration for kafka-python, confluent-kafka and aiokafka, in one place.

Security settings (``ENVMON_KAFKA_SECURITY_PROTOCOL``, SASL and SSL files) pass through unchanged;
only the option names differ between the clients.
"""

from __future__ import annotations

import ssl
from typing import Any

from pipeline.settings import Settings

_KAFKA_PYTHON_NAMES = {
    "security_protocol": "security_protocol",
    "sasl_mechanism": "sasl_mechanism",
    "sasl_username": "sasl_plain_username",
    "sasl_password": "sasl_plain_password",
    "ssl_cafile": "ssl_cafile",
    "ssl_certfile": "ssl_certfile",
    "ssl_keyfile": "ssl_keyfile",
}
_CONFLUENT_NAMES = {
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_username": "sasl.username",
    "sasl_password": "sasl.password",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
}
_SSL_FILES = ("ssl_cafile", "ssl_certfile", "ssl_keyfile")


def bootstrap_servers(settings: Settings) -> list[str]:
    """``ENVMON_KAFKA_BOOTSTRAP`` split into ``host:port`` items."""
    return [server.strip() for server in settings.kafka_bootstrap.split(",") if server.strip()]


def _security(settings: Settings) -> dict[str, str]:
    """The security settings that are set, under client-neutral names."""
    password = settings.kafka_sasl_password
    values = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_username": settings.kafka_sasl_username,
        "sasl_password": password.get_secret_value() if password else None,
        "ssl_cafile": settings.kafka_ssl_cafile,
        "ssl_certfile": settings.kafka_ssl_certfile,
        "ssl_keyfile": settings.kafka_ssl_keyfile,
    }
    return {name: str(value) for name, value in values.items() if value is not None}


def kafka_python_config(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's producer, consumer and admin clients."""
    security = {_KAFKA_PYTHON_NAMES[k]: v for k, v in _security(settings).items()}
    return {"bootstrap_servers": bootstrap_servers(settings), **security}


def confluent_config(settings: Settings) -> dict[str, Any]:
    """A confluent-kafka (librdkafka) configuration dict."""
    security = {_CONFLUENT_NAMES[k]: v for k, v in _security(settings).items()}
    return {"bootstrap.servers": ",".join(bootstrap_servers(settings)), **security}


def aiokafka_config(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka clients, which take an ``ssl_context`` instead of files."""
    security = {
        _KAFKA_PYTHON_NAMES[k]: v for k, v in _security(settings).items() if k not in _SSL_FILES
    }
    config: dict[str, Any] = {"bootstrap_servers": bootstrap_servers(settings), **security}
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        config["ssl_context"] = ssl_context(settings)
    return config


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """A client TLS context: the CA file (or the system CAs) and an optional client certificate."""
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context
