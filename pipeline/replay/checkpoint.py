"""A replay's checkpoint: its arguments, the source plan, and after every slice the position of
each source stream and the number of messages in each target partition.

Saved as JSON under ``{state_dir}/replay/{namespace}.json``, atomically (written to a temporary
file, fsynced, renamed) after the slice's messages were acknowledged. A resumed replay starts at
the slice after the last one saved; what a killed run sent of that slice is found in the target
(see runner.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.archive.files import fsync_dir


@dataclass(frozen=True)
class ReplayArgs:
    """What the replay was asked; a resume must ask the same."""

    source: str  # kafka | archive
    source_namespace: str
    from_ms: int
    to_ms: int
    stations: list[str] | None
    speed: str  # "max" or a factor
    slice_ms: int
    partitions: int


@dataclass
class Checkpoint:
    namespace: str
    args: ReplayArgs
    plan: dict[str, dict[str, Any]]
    slice_index: int = 0  # the next slice to send
    positions: dict[str, int] = field(default_factory=dict)  # source stream -> next offset
    sent: dict[str, int] = field(default_factory=dict)  # "topic/partition" -> messages in it
    readings: int = 0
    messages: int = 0
    done: bool = False

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        doc = json.loads(path.read_text("utf-8"))
        doc["args"] = ReplayArgs(**doc["args"])
        return cls(**doc)


def checkpoint_path(state_dir: Path, namespace: str) -> Path:
    return state_dir / "replay" / f"{namespace}.json"
