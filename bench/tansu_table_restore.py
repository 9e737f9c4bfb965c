"""Minimal reproduction: on Tansu 0.6 a Faust table is not restored to the end of its changelog.

``python bench/tansu_table_restore.py`` starts Tansu (memory storage) on a free port and runs
Faust workers (in subprocesses) with one table of raw keys and values, like envmon's:

1. A changelog of ten records (keys k0..k9) written in one produce request, i.e. one record
   batch, as one agent batch's table writes are; a worker with a memory table restores it and
   reports its keys when recovery completes, and 2 s later.
2. A RocksDB table whose agent writes k0..k2 and then k3..k9 (two changelog batches); the worker
   stops cleanly and is started again with the same data dir.

Kafka answers ListOffsets(latest) with the offset after the last record, so Faust recovers up to
it: 10 keys in 1, a clean restart in 2. Tansu answers with the base offset of the last batch plus
one (bench/tansu_end_offsets.py), and Faust takes that minus one as the changelog's last offset
("highwater"):

1. recovery stops after the first record of the batch: 1 key of 10 restored;
2. the restarted worker crashes: RocksDB's persisted offset 9 is above that highwater, and Faust
   raises ``ConsistencyError`` ("The persisted offset ... is higher than the last offset in that
   topic (highwater)"). On Tansu a RocksDB-backed worker whose last changelog write was a batch
   of several records cannot restart (envmon's test_worker_restart[rocksdb] shows it).

Exit status 1 when the bug shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from pipeline.stack.servers import TansuBroker, tansu_binary

MEMORY_APP, ROCKS_APP = "restore-memory", "restore-rocks"
KEYS = 10


def create_topics(bootstrap: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    compact = {"cleanup.policy": "compact"}
    topics = [NewTopic(changelog(MEMORY_APP), 1, 1, topic_configs=compact)]
    topics += [NewTopic(f"{app}-input", 1, 1) for app in (MEMORY_APP, ROCKS_APP)]
    admin.create_topics(topics)
    admin.close()


def changelog(app: str) -> str:
    return f"{app}-t-changelog"  # Faust's name for table "t" of an app


def end_offset(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tp = TopicPartition(topic, 0)
        return consumer.end_offsets([tp])[tp]
    finally:
        consumer.close()


def records(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        return sum(len(batch) for _ in range(5) for batch in consumer.poll(300).values())
    finally:
        consumer.close()


def run_worker(bootstrap: str, mode: str, app: str, store: str, datadir: Path) -> str:
    """One Faust worker in a subprocess; what it reports, or how it failed."""
    argv = [sys.executable, __file__, "--worker", bootstrap, mode, app, store, str(datadir)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        return "no report within 90 s"
    output = done.stdout + done.stderr
    reports = [line[line.index("{") :] for line in output.splitlines() if '{"report"' in line]
    if reports:
        return "; ".join(json.loads(r)["report"] for r in reports)
    if "ConsistencyError" in output:
        start = output.find("ConsistencyError(")
        return "CRASHED: " + " ".join(output[start : start + 190].split()) + "..."
    return f"exited {done.returncode} without a report: {output[-500:]}"


def worker(bootstrap: str, mode: str, app_id: str, store: str, datadir: str) -> None:
    """``restore``: report the table's keys when recovery completes and 2 s later.
    ``write``: an agent writes keys k0..k2, then k3..k9 (two changelog batches), and exits."""
    import asyncio

    import faust

    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store=store,
        datadir=datadir,
        topic_partitions=1,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
    )
    table = app.Table("t", partitions=1, key_type=bytes, value_type=bytes)

    def report(text: str) -> None:
        print(json.dumps({"report": text}), flush=True)

    def keys() -> str:
        return f"{len(table)} keys"

    @app.agent(app.topic(f"{app_id}-input", key_type=bytes, value_type=bytes))
    async def write(stream):  # type: ignore[no-untyped-def]
        async for _ in stream:
            for batch in (range(3), range(3, KEYS)):
                for i in batch:
                    table[f"k{i}".encode()] = b"v"
                await asyncio.sleep(1)  # the producer sends each batch of writes on its own
            report(f"wrote {KEYS} keys in two batches")
            os.kill(os.getpid(), signal.SIGTERM)

    @app.task
    async def recovered() -> None:
        await app.tables.recovery.completed.wait()
        if mode == "restore":
            at_end = keys()
            await asyncio.sleep(2)
            report(f"{at_end} when recovery completed, {keys()} 2 s later")
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            report(f"{keys()} restored")
            producer = KafkaProducer(bootstrap_servers=bootstrap)
            producer.send(f"{app_id}-input", b"go")
            producer.close()

    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="tansu-")  # keeps the broker log for a look afterwards
    tansu = TansuBroker(tansu_binary(), Path(workdir))
    tansu.start()
    bootstrap = tansu.bootstrap
    try:
        create_topics(bootstrap)
        # 1. a changelog of KEYS records in one batch, restored into a memory table
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=1000)
        for i in range(KEYS):
            producer.send(changelog(MEMORY_APP), key=f"k{i}".encode(), value=b"v")
        producer.flush()
        producer.close()
        listed = end_offset(bootstrap, changelog(MEMORY_APP))
        with tempfile.TemporaryDirectory() as tmp:
            memory = run_worker(bootstrap, "restore", MEMORY_APP, "memory://", Path(tmp) / "m")
            # 2. a RocksDB table written by its agent, then the worker restarted
            datadir = Path(tmp) / "rocks"
            first = run_worker(bootstrap, "write", ROCKS_APP, "rocksdb://", datadir)
            rocks_listed = end_offset(bootstrap, changelog(ROCKS_APP))
            rocks_records = records(bootstrap, changelog(ROCKS_APP))
            restart = run_worker(bootstrap, "restore", ROCKS_APP, "rocksdb://", datadir)
    finally:
        tansu.stop()
    print(f"1. changelog of {KEYS} records in one batch: ListOffsets(latest) = {listed}")
    print(f"   memory table restored by a new worker: {memory}")
    print(f"2. RocksDB table, first worker: {first}")
    print(f"   changelog: {rocks_records} records, ListOffsets(latest) = {rocks_listed}")
    print(f"   restarted worker, same data dir: {restart}")
    wrong = f"{KEYS} keys when recovery completed" not in memory or "CRASHED" in restart
    wrong = wrong or f"{KEYS} keys when recovery completed" not in restart
    print("Faust table restore on Tansu: " + ("BROKEN (bug reproduced)" if wrong else "correct"))
    return 1 if wrong else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:7])
    else:
        sys.exit(main())
