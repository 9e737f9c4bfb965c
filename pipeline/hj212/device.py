"""The device simulator: data loggers that speak HJ 212-2017 to a gateway, as stations would.

Each :class:`SimulatedDevice` keeps one TCP connection, sends real-time data (2011) every
``interval_s`` and hourly data (2061) for each past hour, optionally split into parts (Flag=7),
and waits for the platform's 9014 answer; without one within ``timeout_s`` it resends the same
frame, ``retries`` times (HJ 212-2017 table 1 defaults: 10 s, 3 retries). Values come from
envmon's reading simulator (:mod:`pipeline.sources.simulator`: diurnal cycles, episodes, rain),
converted to the units the device map says the logger sends; a share of values carries a non-N
data flag. For demos and tests it can also lose answers (``drop_ack_rate``: the answer arrives
but is ignored, so the frame is resent) and corrupt CRCs (``bad_crc_rate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from pipeline.hj212.build import data_frame, hj_time, measurement_items, qn_of, split_items
from pipeline.hj212.devices import Device
from pipeline.hj212.frame import Deframer, Frame
from pipeline.hj212.packet import Packet, parse_frame
from pipeline.registry import Registry
from pipeline.sources.simulator import Cadence, FaultConfig, SimPlan, Simulator

NON_NORMAL_FLAGS = "FMSDCTB"
ST = {"air": "22", "water": "21"}  # reference §2.2; the gateway routes by the device map


@dataclass(frozen=True)
class SimConfig:
    interval_s: float = 30.0  # real-time data every this many seconds
    hourly: bool = True  # hourly data (2061) for each clock hour that passed
    split_codes: int = 0  # hourly records in parts of this many factor codes (0: not split)
    timeout_s: float = 10.0
    retries: int = 3
    flag_rate: float = 0.05  # share of values with a flag other than N
    drop_ack_rate: float = 0.0
    bad_crc_rate: float = 0.0
    count: int = 0  # real-time frames per device, then stop (0: until stopped)
    seed: int = 0


@dataclass
class SimStats:
    frames: int = 0
    sends: int = 0  # including resends
    acked: int = 0
    unanswered: int = 0  # gave up after the retries
    dropped_acks: int = 0
    bad_crcs: int = 0


class ValueSource:
    """Minute values of every simulated station from the reading simulator, cached per hour."""

    def __init__(self, registry: Registry, stations: Iterable[str], seed: int) -> None:
        ids = frozenset(stations)
        plan = SimPlan(
            seed=seed,
            registry=registry,
            stations=ids,
            cadence=Cadence(overrides=dict.fromkeys(ids, 60)),
            faults=FaultConfig.disabled(),
        )
        self._simulator = Simulator(plan)
        self._hour: int | None = None
        self._cache: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}

    def hour(self, station: str, hour_ms: int) -> dict[str, np.ndarray]:
        """Each value key's 60 minute values of the hour starting at ``hour_ms``."""
        if self._hour != hour_ms:
            self._cache = {}
            for series in self._simulator.series(hour_ms, hour_ms + 3_600_000):
                for i, sid in enumerate(series.group.ids):
                    self._cache[sid] = (series.ts_ms, {k: series[k][i] for k in series.keys})
            self._hour = hour_ms
        return self._cache[station][1]

    def minute(self, station: str, ts_ms: int) -> dict[str, float]:
        hour_ms = ts_ms // 3_600_000 * 3_600_000
        index = (ts_ms - hour_ms) // 60_000
        return {k: float(v[index]) for k, v in self.hour(station, hour_ms).items()}


class SimulatedDevice:
    def __init__(
        self, device: Device, values: ValueSource, config: SimConfig, index: int = 0
    ) -> None:
        self.device = device
        self.values = values
        self.config = config
        self.stats = SimStats()
        self.rng = random.Random(f"{config.seed}:{device.mn}:{index}")
        self._codes = {key: (code, factor) for code, (key, factor) in device.factors.items()}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._answers: dict[str, asyncio.Future[Packet]] = {}
        self._qn_ms = 0

    # --- connection ----------------------------------------------------------------------------
    async def connect(self, host: str, port: int) -> None:
        reader, self._writer = await asyncio.open_connection(host, port)
        self._reader_task = asyncio.create_task(self._read(reader))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    async def _read(self, reader: asyncio.StreamReader) -> None:
        deframer = Deframer()
        while data := await reader.read(65_536):
            for piece in deframer.feed(data):
                if not isinstance(piece, Frame):
                    continue
                packet = parse_frame(piece.raw)
                if isinstance(packet, Packet) and packet.header.qn is not None:
                    future = self._answers.get(packet.header.qn)
                    if future is not None and not future.done():
                        future.set_result(packet)

    async def send(self, frame: bytes, qn: str | None, ack: bool = True) -> bool:
        """Send ``frame``; with ``ack``, wait for the answer echoing ``qn`` and resend up to
        ``retries`` times. True if answered (or no answer asked for)."""
        assert self._writer is not None, "connect first"
        self.stats.frames += 1
        if self.rng.random() < self.config.bad_crc_rate:
            frame = corrupt_crc(frame)
            self.stats.bad_crcs += 1
        for _ in range(self.config.retries + 1):
            future: asyncio.Future[Packet] | None = None
            if ack and qn is not None:
                future = self._answers[qn] = asyncio.get_running_loop().create_future()
            self._writer.write(frame)
            await self._writer.drain()
            self.stats.sends += 1
            if future is None:
                return True
            try:
                await asyncio.wait_for(future, self.config.timeout_s)
            except TimeoutError:
                continue
            finally:
                self._answers.pop(qn, None)  # type: ignore[arg-type]
            if self.rng.random() < self.config.drop_ack_rate:
                self.stats.dropped_acks += 1
                await asyncio.sleep(self.config.timeout_s)  # as if it never came
                continue
            self.stats.acked += 1
            return True
        self.stats.unanswered += 1
        return False

    # --- what a logger sends ---------------------------------------------------------------------
    def next_qn(self, now: datetime) -> str:
        """A QN from the clock, strictly increasing per device."""
        ms = max(int(now.timestamp() * 1000), self._qn_ms + 1)
        self._qn_ms = ms
        return qn_of(datetime.fromtimestamp(ms / 1000, UTC))

    def _flag(self) -> str:
        if self.rng.random() < self.config.flag_rate:
            return self.rng.choice(NON_NORMAL_FLAGS)
        return "N"

    def _text(self, key: str, value: float) -> tuple[str, str]:
        code, factor = self._codes[key]
        return code, f"{value / factor:.3f}"

    def realtime_frame(self, when: datetime) -> tuple[bytes, str]:
        ts_ms = int(when.timestamp()) * 1000
        values: dict[str, dict[str, str]] = {}
        for key, value in self.values.minute(self.device.station, ts_ms).items():
            if key in self._codes and np.isfinite(value):
                code, text = self._text(key, value)
                values[code] = {"Rtd": text, "Flag": self._flag()}
        qn = self.next_qn(datetime.now(UTC))
        items = [("DataTime", hj_time(when)), *measurement_items(values)]
        return self._frame(qn, "2011", items), qn

    def hourly_frames(self, hour_start: datetime) -> list[tuple[bytes, str]]:
        """The hourly record of the hour starting at ``hour_start``, in parts if configured."""
        hour_ms = int(hour_start.timestamp()) * 1000
        values: dict[str, dict[str, str]] = {}
        for key, minutes in self.values.hour(self.device.station, hour_ms).items():
            finite = minutes[np.isfinite(minutes)]
            if key not in self._codes or not len(finite):
                continue
            code = self._codes[key][0]
            stats = {"Avg": finite.mean(), "Min": finite.min(), "Max": finite.max()}
            values[code] = {s: self._text(key, float(v))[1] for s, v in stats.items()}
            values[code]["Flag"] = self._flag()
        head = [("DataTime", hj_time(hour_start))]
        items = measurement_items(values)
        if not self.config.split_codes:
            qn = self.next_qn(datetime.now(UTC))
            return [(self._frame(qn, "2061", [*head, *items]), qn)]
        parts = split_items(head, items, self.config.split_codes)
        frames = []
        for pno, part in enumerate(parts, 1):
            qn = self.next_qn(datetime.now(UTC))
            frames.append((self._frame(qn, "2061", part, (len(parts), pno)), qn))
        return frames

    def _frame(
        self, qn: str, cn: str, items: list[tuple[str, str]], part: tuple[int, int] | None = None
    ) -> bytes:
        return data_frame(
            qn=qn,
            st=ST[self.device.kind.value],
            cn=cn,
            pw=self.device.password,
            mn=self.device.mn,
            items=items,
            part=part,
        )

    # --- the schedule ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Real-time data every ``interval_s``; at each new clock hour the past hour's data."""
        sent = 0
        last_hour = _hour_start(datetime.now(UTC))
        while not stop.is_set() and (not self.config.count or sent < self.config.count):
            now = datetime.now(UTC).replace(microsecond=0)
            frame, qn = self.realtime_frame(now)
            await self.send(frame, qn)
            sent += 1
            hour = _hour_start(now)
            if self.config.hourly and hour > last_hour:
                for frame, qn in self.hourly_frames(last_hour):
                    await self.send(frame, qn)
                last_hour = hour
            if not self.config.count or sent < self.config.count:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.interval_s)


def _hour_start(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def corrupt_crc(frame: bytes) -> bytes:
    """The same frame with a wrong CRC (the check digits changed, nothing else)."""
    n = int(frame[2:6])
    crc = int(frame[6 + n : 10 + n], 16) ^ 0x0101
    return frame[: 6 + n] + b"%04X" % crc + frame[10 + n :]


@dataclass
class Fleet:
    """Simulated devices run together (``envmon simulate hj212``)."""

    devices: list[SimulatedDevice] = field(default_factory=list)

    async def run(self, host: str, port: int, stop: asyncio.Event) -> None:
        await asyncio.gather(*(d.connect(host, port) for d in self.devices))
        try:
            await asyncio.gather(*(d.run(stop) for d in self.devices))
        finally:
            await asyncio.gather(*(d.close() for d in self.devices))

    def totals(self) -> SimStats:
        total = SimStats()
        for d in self.devices:
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(d.stats, name))
        return total
