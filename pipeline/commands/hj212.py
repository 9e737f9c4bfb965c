"""``envmon gateway hj212`` (the HJ 212-2017 TCP gateway) and ``envmon hj212 decode``."""

from __future__ import annotations

import json
import logging
import sys

import typer

from pipeline.commands.common import fail, load_registry, run_until_signalled
from pipeline.commands.config import settings_of
from pipeline.hj212.describe import describe
from pipeline.hj212.devices import DeviceMap, DeviceMapError
from pipeline.hj212.frame import Deframer
from pipeline.hj212.receiver import Receiver
from pipeline.settings import Settings

gateway_app = typer.Typer(help="Protocol gateways that turn station traffic into readings.")
hj212_app = typer.Typer(help="HJ 212-2017 tools.", no_args_is_help=True)

READ_SIZE = 65_536


def load_devices(settings: Settings) -> DeviceMap:
    try:
        return DeviceMap.load(load_registry(settings), settings.hj212_devices_file)
    except DeviceMapError as exc:
        raise fail(f"ENVMON_HJ212_DEVICES_FILE: {exc}") from None


@hj212_app.command("decode")
def decode(
    ctx: typer.Context,
    no_registry: bool = typer.Option(
        False, "--no-registry", help="Skip the MN, password and version checks of the device map."
    ),
) -> None:
    """Read the raw bytes of one connection on stdin; write one JSON object per frame (and per
    rejected piece) with the answer the gateway would send. Exit code 1 if any was rejected."""
    settings = settings_of(ctx)
    devices = None if no_registry else load_devices(settings)
    receiver = Receiver(
        devices,
        max_segment=settings.hj212_max_segment,
        split_timeout_s=settings.hj212_split_timeout_s,
    )
    deframer = Deframer(settings.hj212_lenient_terminator)
    rejected = 0
    stdin, out = sys.stdin.buffer, sys.stdout
    while True:
        chunk = stdin.read1(READ_SIZE)
        pieces = deframer.feed(chunk) if chunk else deframer.close()
        for piece in pieces:
            outcome = receiver.receive(piece)
            receiver.commit(outcome.keys)  # nothing to deliver: a resend is a duplicate now
            rejected += not outcome.accepted
            out.write(json.dumps(describe(outcome), ensure_ascii=False) + "\n")
        if not chunk:  # the stream ended: parts of split records still missing
            for outcome in receiver.expire(float("inf")):
                rejected += 1
                out.write(json.dumps(describe(outcome), ensure_ascii=False) + "\n")
        if not chunk:
            break
    out.flush()
    if rejected:
        raise typer.Exit(1)


@gateway_app.command("hj212")
def gateway(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address (default: ENVMON_HJ212_HOST)."),
    port: int | None = typer.Option(
        None, min=0, max=65535, help="TCP port (default: ENVMON_HJ212_PORT; 0: any free port)."
    ),
    health_port: int | None = typer.Option(
        None, min=-1, max=65535, help="Health/metrics port (ENVMON_HJ212_HEALTH_PORT); -1 none."
    ),
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Receive HJ 212-2017 packets over TCP: answer them, turn data into readings on
    {ns}.air.readings / {ns}.water.readings and rejected bytes into {ns}.deadletter."""
    from pipeline.hj212.gateway import Gateway, GatewayConfig
    from pipeline.kafka.producer import ProducerError

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    settings = settings_of(ctx)
    config = GatewayConfig.from_settings(
        settings,
        host=host,
        port=port,
        health_port=None if health_port == -1 else health_port,
        no_health=health_port == -1,
    )
    devices = load_devices(settings)
    try:
        run_until_signalled(Gateway(settings, devices, config).run)
    except ProducerError as exc:
        raise fail(str(exc), 1) from None
    except OSError as exc:
        raise fail(f"--host/--port {config.host}:{config.port}: {exc.strerror or exc}") from None
