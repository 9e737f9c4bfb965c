"""Appends frames to the archive's daily files: fsynced before the caller commits, closed on
rotation (a file not written for ``idle_close_s``) and at shutdown."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import msgspec

from pipeline.archive.files import file_path, frame, fsync_dir, repair
from pipeline.timeutil import parse_timestamp

log = logging.getLogger(__name__)

FileKey = tuple[date, str, int]  # day, kind, source partition


class _Times(msgspec.Struct, gc=False):
    """Just enough of a reading message to find its event time."""

    ts: int | str | None = None
    readings: list[_Item] | None = None


class _Item(msgspec.Struct, gc=False):
    ts: int | str | None = None


_decode_times = msgspec.json.Decoder(_Times).decode


def event_ms(value: bytes) -> int | None:
    """The event time of a reading message (an envelope's first reading), None if it has none."""
    try:
        message = _decode_times(value)
        ts = message.readings[0].ts if message.readings else message.ts
        return None if ts is None else parse_timestamp(ts)
    except (msgspec.DecodeError, ValueError, TypeError):
        return None


def local_day(ts_ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz).date()


@dataclass
class _Open:
    handle: BinaryIO
    last_write: float = field(default_factory=time.monotonic)


class DailyFiles:
    """``append(key, lines)`` buffers; ``sync()`` writes one frame per file and fsyncs it."""

    def __init__(self, root: Path, namespace: str, idle_close_s: float = 300.0) -> None:
        self.root, self.namespace, self.idle_close_s = root, namespace, idle_close_s
        self._open: dict[FileKey, _Open] = {}
        self._pending: dict[FileKey, list[bytes]] = {}
        self.frames_written = 0
        self.bytes_written = 0

    def append(self, key: FileKey, line: bytes) -> None:
        self._pending.setdefault(key, []).append(line)

    def sync(self) -> int:
        """Write the buffered lines (a frame per file), fsync every file written; the number of
        records written. Afterwards, close the files idle for ``idle_close_s`` (rotation)."""
        records = 0
        new_dirs: set[Path] = set()
        written = []
        for key, lines in self._pending.items():
            opened = self._open.get(key) or self._open_file(key, new_dirs)
            data = frame(lines)
            opened.handle.write(data)
            opened.last_write = time.monotonic()
            written.append(opened)
            records += len(lines)
            self.bytes_written += len(data)
        for opened in written:
            opened.handle.flush()
            os.fsync(opened.handle.fileno())
        for directory in sorted(new_dirs):
            fsync_dir(directory)
            fsync_dir(directory.parent)
        self.frames_written += len(written)
        self._pending.clear()
        self._rotate()
        return records

    def _open_file(self, key: FileKey, new_dirs: set[Path]) -> _Open:
        day, kind, partition = key
        path = file_path(self.root, self.namespace, day, kind, partition)
        if path.exists():
            repair(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            new_dirs.add(path.parent)
        opened = self._open[key] = _Open(open(path, "ab"))  # noqa: SIM115 - kept open across flushes
        return opened

    def _rotate(self) -> None:
        now = time.monotonic()
        for key in [k for k, o in self._open.items() if now - o.last_write >= self.idle_close_s]:
            self._close(key)

    def _close(self, key: FileKey) -> None:
        opened = self._open.pop(key)
        opened.handle.flush()
        os.fsync(opened.handle.fileno())
        opened.handle.close()
        log.info("archive_file_closed day=%s kind=%s partition=%d", *key)

    def drop_pending(self) -> None:
        """Forget buffered lines (their offsets were not committed: they come again)."""
        self._pending.clear()

    def close(self) -> None:
        """Close every file (after a last ``sync``, by the caller)."""
        for key in list(self._open):
            self._close(key)

    @property
    def open_files(self) -> int:
        return len(self._open)
