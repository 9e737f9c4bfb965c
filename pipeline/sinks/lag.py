"""Consumer lag of the groups that read a namespace, read from the broker.

A group counts when it has committed offsets on a ``{ns}.`` topic (the sink, the stream agents,
the notifier, and any other reader of the namespace). Lag per group and topic is the sum over
partitions of ``end offset - committed offset``.

Tansu 0.6 answers ListOffsets(latest) with the base offset of a partition's last record batch
plus one, not with the offset after its last record, so a partition whose last produce request
carried a batch of n records looks n-1 records shorter (``bench/tansu_end_offsets.py`` shows it).
The end offset used here is therefore the larger of that answer and the high watermark the
caller saw in its own fetch responses (``high_water``), which Tansu reports correctly: exact for
the partitions the caller reads, possibly too low on Tansu for the others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from kafka import TopicPartition
from kafka.admin import OffsetSpec

from pipeline.kafka.admin import admin_client
from pipeline.settings import Settings


def consumer_lag(
    settings: Settings, high_water: Mapping[TopicPartition, int], timeout: float = 5.0
) -> dict[tuple[str, str], int]:
    """``{(group, topic): records behind}`` for every group reading ``settings.namespace``."""
    prefix = f"{settings.namespace}."
    with admin_client(settings, timeout) as admin:
        committed: dict[tuple[str, TopicPartition], int] = {}
        for group in sorted(g["group_id"] for g in admin.list_groups()):
            for tp, meta in admin.list_group_offsets({group: None})[group].items():
                if tp.topic.startswith(prefix) and meta.offset >= 0:
                    committed[group, tp] = meta.offset
        partitions = {tp for _, tp in committed}
        listed = (
            admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST))
            if partitions
            else {}
        )
    lag: Counter[tuple[str, str]] = Counter()
    for (group, tp), offset in committed.items():
        end = max(listed[tp].offset, high_water.get(tp, 0))
        lag[group, tp.topic] += max(0, end - offset)
    return dict(lag)
