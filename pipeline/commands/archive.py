"""``envmon archive``: raw readings and dead letters of a namespace into daily files."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from pipeline.archive.config import ArchiveConfig
from pipeline.commands.common import fail, run_until_signalled
from pipeline.commands.config import settings_of
from pipeline.settings import SettingsError, with_overrides
from pipeline.sinks.health import serve_health

_DEFAULTS = ArchiveConfig()


def archive(
    ctx: typer.Context,
    directory: Path | None = typer.Option(
        None, "--dir", help="Archive directory (default: ENVMON_ARCHIVE_DIR)."
    ),
    namespace: str | None = typer.Option(None, help="Topic namespace (default: ENVMON_NAMESPACE)."),
    flush: float = typer.Option(_DEFAULTS.flush_s, min=0.05, help="Seconds between fsyncs."),
    flush_records: int = typer.Option(_DEFAULTS.flush_records, min=1, help="Or this many records."),
    idle_close: float = typer.Option(
        _DEFAULTS.idle_close_s, min=0, help="Close a daily file after this many idle seconds."
    ),
    session_timeout_ms: int = typer.Option(_DEFAULTS.session_timeout_ms, min=1000),
    health_port: int = typer.Option(8790, min=-1, help="Health endpoint port; 0 any, -1 none."),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Archive a namespace's raw readings and dead letters in daily files (group
    envmon-archive-{ns}; offsets committed after the files are fsynced)."""
    from aiokafka.errors import KafkaError

    from pipeline.archive.runner import Archiver

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        settings = with_overrides(settings_of(ctx), namespace=namespace, archive_dir=directory)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    root = settings.archive_dir
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"ENVMON_ARCHIVE_DIR={root}: {exc.strerror}") from None
    config = ArchiveConfig(flush, flush_records, idle_close, session_timeout_ms)
    archiver = Archiver(settings, root, config)
    health = None
    if health_port >= 0:
        health = serve_health(archiver.metrics, "127.0.0.1", health_port)  # type: ignore[arg-type]
        logging.getLogger(__name__).info(
            "health_endpoint url=http://127.0.0.1:%d/health", health.server_address[1]
        )
    try:
        run_until_signalled(archiver.run)
    except KafkaError as exc:
        raise fail(f"Kafka at {settings.kafka_bootstrap}: {exc}", 1) from None
    finally:
        if health is not None:
            health.shutdown()
