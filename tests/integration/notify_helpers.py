"""The notifier's engine with real channels (real HTTP, real SMTP) on the real clock, for the
integration tests of channels and retries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from pipeline.notify.channels import open_channel
from pipeline.notify.engine import Engine
from pipeline.notify.metrics import NotifierMetrics
from pipeline.notify.outbox import Outbox
from pipeline.notify.render import LinkSettings, Renderer
from pipeline.notify.silences import SilenceBook
from pipeline.notify.subscriptions import parse_subscriptions
from pipeline.registry import Registry


@asynccontextmanager
async def live_engine(
    yaml_text: str, env: Mapping[str, str], tmp_path: Path
) -> AsyncIterator[Engine]:
    subs = parse_subscriptions(yaml_text, "test.yaml", env)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    async with aiohttp.ClientSession() as session:
        channels = {s.name: open_channel(s, session) for s in subs.subscribers}
        renderer = Renderer(
            Registry.load(), LinkSettings("http://grafana.test:3000"), "Asia/Shanghai"
        )
        engine = Engine(
            subs, outbox, renderer, channels, SilenceBook(), NotifierMetrics("t", "g"), time.time
        )
        try:
            yield engine
        finally:
            await engine.settle()
            outbox.close()


async def dispatch_until(engine: Engine, done: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout:g} s")
        await engine.dispatch()
        await asyncio.sleep(0.02)
    await engine.settle()
