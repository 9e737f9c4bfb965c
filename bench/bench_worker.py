"""Stream worker throughput from a pre-filled topic: ``python -m bench.bench_worker`` (by hand).

Against a real Tansu broker started for the run, each case pre-fills a fresh namespace's
``air.readings`` topic (6 partitions) with simulated readings of synthetic micro-stations
(1-minute cadence, faults off, confluent producer), then measures:

- the raw limit: a bare aiokafka consumer (all partitions assigned by hand, from the beginning,
  ``getmany`` in a loop, values not decoded) reading the topic to its last message; readings/s =
  messages/s x readings per message, median of RAW_REPEATS;
- the worker: ``python -m pipeline worker`` started after the pre-fill, ``/health`` polled every
  0.2 s; its rate runs from the first poll that shows readings to the poll that shows all of
  them (one run per case). Its VmRSS is read from ``/proc`` at the end, and the CPU the worker
  and Tansu used over the measured span from ``/proc/<pid>/stat``.

Cases: (a) single-reading messages and (b) envelopes (one per station and ENVELOPE_MINUTES:
100 readings) of STATIONS micro-stations; (c) envelopes of BIG_STATIONS (RSS); (d) two workers in
one group on the envelope case (combined rate, speed-up over (b)). Then, when py-spy is
installed, one more envelope run, not measured, whose worker py-spy records for PROFILE_S
seconds, and (s) the same for single readings. ``--cases ab`` runs some of them (a b c d p s;
the speed-up needs b and d). Readings per CPU-second of the worker are shown beside the rate:
the machine is shared, and what others run changes the rate but hardly that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import print_table
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.producer import open_producer
from pipeline.registry import Registry, StationKind
from pipeline.settings import load_settings
from pipeline.sources.publish import Publisher
from pipeline.sources.simulator import (
    FaultConfig,
    SimPlan,
    is_synthetic,
    simulate,
    synthetic_registry,
    to_yaml,
)
from pipeline.stack.servers import ServerProcess, TansuBroker, free_port, tansu_binary
from pipeline.timeutil import parse_timestamp
from pipeline.topics import Topics

PARTITIONS = 6
MINUTE_MS = 60_000
STATIONS = 1000
ENVELOPE_MINUTES = 100  # readings per envelope (1-minute cadence); T0 is a multiple of it
SINGLE_MINUTES = 120  # 120,000 single-reading messages
ENVELOPE_CHUNKS = 15  # 1,500,000 readings in 15,000 envelopes of 100
BIG_STATIONS = 10_000
BIG_CHUNKS = 1  # 1,000,000 readings in 10,000 envelopes
PROFILE_CHUNKS = 5
RAW_REPEATS = 3
T0 = parse_timestamp("2026-11-20T00:00:00+08:00")
POLL_S = 0.2
STALL_S = 30.0  # give up when the workers' counters do not move for this long
PROFILE_S = 10
PROFILE_OUT = Path("/tmp/worker_profile.txt")  # .p.txt (envelopes), .s.txt (singles)
LOGS = Path("/tmp/bench-worker-logs")  # worker logs of runs that did not finish
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGET_SINGLE = 5_000
TARGET_ENVELOPE = 50_000
TARGET_SPEEDUP = 1.7
TARGET_RSS_MB = 300


@dataclass
class Prefill:
    namespace: str
    topic: str
    messages: int
    readings: int
    seconds: float


@dataclass
class WorkerRun:
    readings: int  # counted by the workers at the end
    rate: float  # readings/s from the first rise to the total
    seconds: float
    complete: bool
    rss_mb: list[float]
    rss_ready_mb: list[float]  # when /health first answered, before any reading
    cpu: list[float]  # share of one core each worker used over the measured span
    tansu_cpu: float
    other_cpu: float  # everything else on the machine (other processes), in cores
    per_worker: list[int]
    rises: list[float]  # seconds from the first rise to each worker's own first rise


@dataclass
class Registries:
    registry: Registry
    path: Path


def make_registry(n_air: int, tmp: Path) -> Registries:
    registry = synthetic_registry(Registry.load(), n_air, 0, seed=1)
    path = tmp / f"registry-{n_air}.yaml"
    path.write_text(to_yaml(registry), encoding="utf-8")
    return Registries(registry, path)


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``, idle and iowait excluded)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / CLK_TCK


def cpu_now() -> tuple[float, float]:
    """(busy CPU seconds of the machine, CPU seconds of this process)."""
    times = os.times()
    return machine_busy(), times.user + times.system


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a live process; NaN once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# --- pre-fill ----------------------------------------------------------------------------------


def prefill(
    bootstrap: str, registry: Registry, namespace: str, minutes: int, envelopes: bool
) -> Prefill:
    """Simulated micro-station readings of ``minutes`` into ``{namespace}.air.readings``; an
    envelope holds a station's ENVELOPE_MINUTES."""
    settings = load_settings(
        env={},
        kafka_bootstrap=bootstrap,
        namespace=namespace,
        partitions=PARTITIONS,
        producer_backend="confluent",
        producer_idempotent=False,  # Tansu makes idempotence slow; loopback does not retry
    )
    ensure_topics(settings, namespace)
    # the registry's own (hourly, national-control) stations are left out
    micro = frozenset(s.id for s in registry.of_kind(StationKind.AIR) if is_synthetic(s.id))
    plan = SimPlan(
        seed=1,
        registry=registry,
        kinds=frozenset({StationKind.AIR}),
        start_ms=T0,
        end_ms=T0 + minutes * MINUTE_MS,
        faults=FaultConfig.disabled(),
        stations=micro,
        chunk_s=ENVELOPE_MINUTES * 60,
    )  # an envelope holds a station's readings of one chunk
    topics = Topics(namespace)
    start = time.perf_counter()
    with open_producer(settings, "confluent") as producer:
        publisher = Publisher(topics, producer.send, envelopes=envelopes)
        for records in simulate(plan):
            publisher.publish(records)
    elapsed = time.perf_counter() - start
    counts = publisher.counts
    return Prefill(namespace, topics.air_readings, counts.messages, counts.readings, elapsed)


# --- raw limit ---------------------------------------------------------------------------------


async def _raw_consume(bootstrap: str, topic: str, expected: int) -> float:
    """Seconds a bare aiokafka consumer takes to read ``expected`` messages of ``topic``.

    Counts messages rather than trusting end offsets: Tansu 0.6 reports ListOffsets(latest)
    too low (bench/tansu_end_offsets.py)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        start = last = time.perf_counter()
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=500)
            got = sum(len(records) for records in batches.values())
            now = time.perf_counter()
            if got:
                seen += got
                last = now
            elif now - last > STALL_S:
                raise RuntimeError(f"raw consumer stalled at {seen:,} of {expected:,} messages")
        return time.perf_counter() - start
    finally:
        await consumer.stop()


def raw_rate(bootstrap: str, fill: Prefill, repeats: int) -> float:
    """Readings/s of the bare consumer, median of ``repeats``."""
    times = [
        asyncio.run(_raw_consume(bootstrap, fill.topic, fill.messages)) for _ in range(repeats)
    ]
    return fill.readings / statistics.median(times)


# --- workers -----------------------------------------------------------------------------------


def health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None


class Worker:
    """``python -m pipeline worker`` as a child process with its own web port and state dir."""

    def __init__(self, name: str, bootstrap: str, namespace: str, registry: Path, tmp: Path):
        self.port = free_port()
        state = tmp / f"state-{name}"
        state.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENVMON_")}
        env.update(
            ENVMON_KAFKA_BOOTSTRAP=bootstrap,
            ENVMON_NAMESPACE=namespace,
            ENVMON_REGISTRY_FILE=str(registry),
            ENVMON_TABLE_STORE="memory",
            ENVMON_STATE_DIR=str(state),
            ENVMON_WORKER_WEB_PORT=str(self.port),
            ENVMON_CONSUMER_SESSION_TIMEOUT_S="6",
            ENVMON_PARTITIONS=str(PARTITIONS),
        )
        self.process = ServerProcess(
            f"worker {name}",
            [sys.executable, "-m", "pipeline", "worker"],
            lambda: True,  # workers start together, then wait_ready() waits for /health
            tmp / f"worker-{name}.log",
            stop_timeout=15.0,
            env=env,
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def health(self) -> dict[str, object]:
        return health(self.port) or {}

    def rss_mb(self) -> float:
        """VmRSS in MB; NaN once the process is gone."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return float("nan")
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def check_running(self) -> None:
        if not self.process.running:
            LOGS.mkdir(exist_ok=True)
            shutil.copy(self.process.log_path, LOGS)
            raise RuntimeError(
                f"{self.process.name} exited with code {self.process.exit_code}; log in {LOGS}:\n"
                f"{self.process.log_tail(60)}"
            )


def wait_ready(workers: list[Worker], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(workers)
    while waiting:
        for worker in list(waiting):
            worker.check_running()
            if health(worker.port) is not None:
                waiting.remove(worker)
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not answering /health within {timeout:g} s")
        time.sleep(0.1)


def run_workers(
    workers: list[Worker],
    total: int,
    tansu_pid: int | None,
    on_rise: Callable[[], None] | None = None,
) -> WorkerRun:
    """Start ``workers`` together and poll their counters until they sum to ``total``."""

    def snapshot() -> tuple[list[float], float, float, float]:
        return [cpu_seconds(w.pid) for w in workers], cpu_seconds(tansu_pid), *cpu_now()

    # Started one after the other from the main thread (start() returns at once; wait_ready
    # waits for all): ServerProcess ties "die with the parent" to the main thread only.
    for worker in workers:
        worker.process.start()
    wait_ready(workers)
    rss_ready = [w.rss_mb() for w in workers]
    counts = [0] * len(workers)
    rises: list[float | None] = [None] * len(workers)
    first: tuple[float, int] | None = None
    cpu0: list[float] = []
    tansu0 = busy0 = own0 = 0.0
    moved = previous = time.perf_counter(), 0
    end = None
    at_progress: tuple[list[float], float, float, float] = ([], 0.0, 0.0, 0.0)
    while True:
        for i, worker in enumerate(workers):
            counted = health(worker.port)
            if counted is not None:
                counts[i] = int(counted["readings"])  # type: ignore[call-overload]
        now, done = time.perf_counter(), sum(counts)
        if done and first is None:
            first = (now, done)
            cpu0, tansu0, busy0, own0 = snapshot()
            if on_rise is not None:
                on_rise()
        for i, counted in enumerate(counts):
            if counted and rises[i] is None and first is not None:
                rises[i] = now - first[0]
        if done >= total:
            end = now
            break
        for worker in workers:
            worker.check_running()
        if done != previous[1]:
            moved = previous = now, done
            at_progress = snapshot()
        if now - moved[0] > STALL_S:
            break
        time.sleep(POLL_S)
    # CPU up to the last progress, so that a stall at the end does not count
    cpu1, tansu1, busy1, own1 = snapshot() if end is not None else at_progress
    done = sum(counts)
    stop = end if end is not None else moved[0]
    span = stop - first[0] if first is not None else float("nan")
    rate = (done - first[1]) / span if first is not None and span > 0 else float("nan")
    cpu = [(b - a) / span for a, b in zip(cpu0, cpu1, strict=True)] if cpu0 else []
    tansu_cpu = (tansu1 - tansu0) / span if cpu0 else float("nan")
    other = (busy1 - busy0 - (own1 - own0)) / span - sum(cpu) - tansu_cpu
    return WorkerRun(
        readings=done,
        rate=rate,
        seconds=span,
        complete=end is not None,
        rss_mb=[w.rss_mb() for w in workers],
        rss_ready_mb=rss_ready,
        cpu=cpu,
        tansu_cpu=tansu_cpu,
        other_cpu=max(other, 0.0),
        per_worker=counts,
        rises=[r if r is not None else float("nan") for r in rises],
    )


# --- profile -----------------------------------------------------------------------------------


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profile:
    """One py-spy recording of a process (sampling pauses it), collapsed stacks ("raw")."""

    def __init__(self, binary: str, out: Path) -> None:
        self.binary = binary
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, pid: int | None) -> None:
        argv = [self.binary, "record", "-d", str(PROFILE_S), "-p", str(pid)]
        argv += ["-o", str(self.out), "--format", "raw", "-r", "100"]
        self.out.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )

    def wait(self) -> str:
        """Wait for the recording; an error message, or "" when it worked."""
        if self.process is None:
            return "py-spy did not start (the worker never counted readings)"
        try:
            _, err = self.process.communicate(timeout=PROFILE_S + 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "py-spy did not finish"
        if self.process.returncode != 0 or not self.out.exists():
            lines = err.decode(errors="replace").strip().splitlines()
            return f"py-spy failed: {lines[-1] if lines else self.process.returncode}"
        return ""

    def stacks(self) -> list[tuple[list[str], int]]:
        stacks = []
        for line in self.out.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if count.isdigit() and stack:
                stacks.append((stack.split(";"), int(count)))
        return stacks

    def summary(self, top: int = 10) -> list[tuple[str, str, str]]:
        """Rows (function, own %, inclusive %): the top functions by own samples, then the
        envmon functions (streams/, pipeline/) by inclusive samples."""
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = 0
        for frames, n in self.stacks():
            total += n
            own[_frame(frames[-1])] += n
            for frame in {_frame(f) for f in frames}:
                inclusive[frame] += n
        if not total:
            return []

        def pct(n: int) -> str:
            return f"{n / total:.1%}"

        rows = [(name, pct(n), pct(inclusive[name])) for name, n in own.most_common(top)]
        ours = [
            name
            for name, _ in inclusive.most_common()
            if ("(streams/" in name or "(pipeline/" in name)
            and not name.startswith(("<module>", "worker (streams/cli.py"))  # entry frames
        ]
        rows.append(("— envmon code by inclusive samples —", "", ""))
        rows += [(name, pct(own[name]), pct(inclusive[name])) for name in ours[:top]]
        return rows


def _frame(text: str) -> str:
    """``function (path/to/file.py:12)`` -> ``function (path/to/file.py)``."""
    return text.rpartition(":")[0] + ")" if text.endswith(")") and ":" in text else text


# --- the run -----------------------------------------------------------------------------------


def fmt_rate(rate: float) -> str:
    return "n/a" if rate != rate else f"{rate:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", default="abdcps", help="cases to run (default: abdcps)")
    cases = parser.parse_args().cases
    started = time.perf_counter()
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    profile_rows: list[tuple[str, Path, list[tuple[str, str, str]]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp_name:
        tmp = Path(tmp_name)
        small = make_registry(STATIONS, tmp)
        big = make_registry(BIG_STATIONS, tmp)
        broker = TansuBroker(tansu_binary(), tmp)
        broker.start()
        workers: list[Worker] = []
        try:
            bootstrap = broker.bootstrap

            def case(
                label: str,
                reg: Registries,
                minutes: int,
                envelopes: bool,
                n_workers: int = 1,
                raw_repeats: int = RAW_REPEATS,
                profile: Profile | None = None,
            ) -> tuple[Prefill, float, WorkerRun]:
                namespace = f"bw{label[1]}"
                fill = prefill(bootstrap, reg.registry, namespace, minutes, envelopes)
                raw = raw_rate(bootstrap, fill, raw_repeats) if raw_repeats else float("nan")
                group = [
                    Worker(f"{namespace}-{i}", bootstrap, namespace, reg.path, tmp)
                    for i in range(n_workers)
                ]
                workers.extend(group)
                on_rise = (lambda: profile.start(group[0].pid)) if profile else None
                run = run_workers(group, fill.readings, broker.process.pid, on_rise)
                if profile is not None and (error := profile.wait()):
                    notes.append(f"profile: {error}")
                rejects = Counter[str]()
                for worker in group:
                    rejects.update(worker.health().get("rejects", {}))  # type: ignore[arg-type]
                    worker.process.stop()
                    workers.remove(worker)
                if not run.complete:
                    LOGS.mkdir(exist_ok=True)
                    for worker in group:
                        shutil.copy(worker.process.log_path, LOGS)
                    notes.append(
                        f"{label}: the workers counted {run.readings:,} of {fill.readings:,} "
                        f"readings ({run.per_worker}, rejects {dict(rejects)}) and stopped for "
                        f"{STALL_S:g} s; rate up to their last progress; logs in {LOGS}"
                    )
                print(
                    f"{label}: pre-fill {fill.messages:,} msgs / {fill.readings:,} readings in "
                    f"{fill.seconds:.1f} s; raw {fmt_rate(raw)}/s; worker {fmt_rate(run.rate)}/s "
                    f"over {run.seconds:.1f} s; per worker {run.per_worker}, first rise after "
                    f"{', '.join(f'{r:.1f}' for r in run.rises)} s; RSS "
                    f"{', '.join(f'{m:.0f}' for m in run.rss_mb)} MB",
                    file=sys.stderr,
                )
                return fill, raw, run

            def row(label: str, fill: Prefill, raw: float, run: WorkerRun, raw_note: str) -> None:
                ratio = run.rate / raw if raw == raw and run.rate == run.rate else float("nan")
                rows.append(
                    (
                        label,
                        f"{fill.messages:,}",
                        f"{fill.readings:,}",
                        f"{fmt_rate(raw)}{raw_note}",
                        fmt_rate(run.rate) + ("" if run.complete else " (incomplete)"),
                        "n/a" if ratio != ratio else f"{ratio:.1%}",
                        " + ".join(f"{c:.0%}" for c in run.cpu)
                        + f" / {run.tansu_cpu:.0%} / {run.other_cpu:.0%}",
                        fmt_rate(run.rate / sum(run.cpu)) if run.cpu and sum(run.cpu) else "n/a",
                        " + ".join(
                            f"{r:.0f} → {m:.0f}"
                            for r, m in zip(run.rss_ready_mb, run.rss_mb, strict=True)
                        ),
                    )
                )

            single = envelope = pair = big_case = None
            if "a" in cases:
                single = case("(a) singles", small, SINGLE_MINUTES, envelopes=False)
                row(f"(a) single readings, {STATIONS:,} st, {SINGLE_MINUTES} min", *single, "")
            envelope_minutes = ENVELOPE_CHUNKS * ENVELOPE_MINUTES
            if "b" in cases:
                envelope = case("(b) envelopes", small, envelope_minutes, envelopes=True)
                row(f"(b) envelopes, {STATIONS:,} st, {envelope_minutes} min", *envelope, "")
            if "d" in cases:
                pair = case("(d) 2 workers", small, envelope_minutes, True, 2, raw_repeats=0)
                raw_b = envelope[1] if envelope else float("nan")
                label = f"(d) 2 workers, envelopes, {STATIONS:,} st, {envelope_minutes} min"
                row(label, pair[0], raw_b, pair[2], " (b)")
            if "c" in cases:
                big_minutes = BIG_CHUNKS * ENVELOPE_MINUTES
                big_case = case("(c) 10k", big, big_minutes, envelopes=True, raw_repeats=1)
                row(f"(c) envelopes, {BIG_STATIONS:,} st, {big_minutes} min", *big_case, " (1 run)")
            binary = py_spy()
            profiled = [
                (c, envelopes, minutes)
                for c, envelopes, minutes in (
                    ("p", True, PROFILE_CHUNKS * ENVELOPE_MINUTES),
                    ("s", False, SINGLE_MINUTES),
                )
                if c in cases
            ]
            if profiled and binary is None:
                notes.append("profile: py-spy not installed")
            for c, envelopes, minutes in profiled if binary else ():
                profile = Profile(binary, PROFILE_OUT.with_suffix(f".{c}.txt"))
                case(f"({c}) profile", small, minutes, envelopes, raw_repeats=0, profile=profile)
                if profile.out.exists():
                    what = "envelopes" if envelopes else "single readings"
                    profile_rows.append((f"{what}, {minutes} min", profile.out, profile.summary()))
        finally:
            for worker in workers:
                with contextlib.suppress(Exception):
                    worker.process.stop()
            broker.stop()

    nan = float("nan")
    one = envelope[2].rate if envelope else nan
    two = pair[2].rate if pair else nan
    speedup = two / one if one == one and two == two else nan
    rss_big = big_case[2].rss_mb[0] if big_case else nan
    rate_single = single[2].rate if single else nan

    def met(value: float, ok: bool) -> str:
        return "n/a -> NOT met" if value != value else ("met" if ok else "NOT met")

    targets = [
        f">= {TARGET_SINGLE:,} readings/s per worker, single-reading messages: "
        f"{fmt_rate(rate_single)} -> {met(rate_single, rate_single >= TARGET_SINGLE)}",
        f">= {TARGET_ENVELOPE:,} readings/s per worker, envelopes of {ENVELOPE_MINUTES} "
        f"readings: {fmt_rate(one)} -> {met(one, one >= TARGET_ENVELOPE)}",
        f">= {TARGET_SPEEDUP}x with two workers (2 cores, shared with Tansu): {speedup:.2f}x -> "
        f"{met(speedup, speedup >= TARGET_SPEEDUP)}",
        f"RSS <= {TARGET_RSS_MB} MB at {BIG_STATIONS:,} stations: {rss_big:.0f} MB -> "
        f"{met(rss_big, rss_big <= TARGET_RSS_MB)}",
    ]
    rows.sort(key=lambda r: r[0])  # run a, b, d, c: (d) right after the (b) it compares with
    print_table(
        f"Stream worker throughput from a pre-filled topic, readings/s ({PARTITIONS} partitions, "
        "Tansu, memory tables)",
        (
            "case",
            "messages",
            "readings",
            f"raw aiokafka (median of {RAW_REPEATS})",
            "worker (1 run)",
            "worker / raw",
            "CPU worker / Tansu / other",
            "per worker CPU-s",
            "RSS MB (ready → end)",
        ),
        rows,
        "raw: bare AIOKafkaConsumer, all partitions, values not decoded. worker: python -m "
        "pipeline worker started after the pre-fill, /health polled every 0.2 s, rate from the "
        "first rise to the total; CPU = cores used over that span (other: the rest of the machine, "
        f"2 cores); per worker CPU-s: readings per CPU-second of the worker(s); envelopes hold "
        f"{ENVELOPE_MINUTES} readings of one station; (d) = both workers.\nTargets:\n  "
        + "\n  ".join(targets)
        + "".join(f"\n{note}" for note in notes)
        + f"\nWhole bench: {time.perf_counter() - started:.0f} s",
    )
    for what, out, summary in profile_rows:
        print_table(
            f"py-spy of one worker, {PROFILE_S} s at 100 Hz, {what} ({STATIONS:,} st, separate "
            "run, not measured)",
            ("function", "own", "inclusive"),
            summary,
            f"% of samples of busy threads; collapsed stacks in {out}",
        )


if __name__ == "__main__":
    main()
