"""Archive files: JSON lines in zstd frames, one file per (day, kind, source partition).

Layout: ``{archive_dir}/{namespace}/{YYYY-MM-DD}/{kind}-p{partition:03d}.jsonl.zst``; the day is
the local natural day (``ENVMON_TIMEZONE``) of the message's event time (its first reading), or of
its Kafka timestamp when it has none (dead letters, malformed input). One line per Kafka record::

    {"p":3,"o":1204,"t":1763568000123,"k":"S1","v":"{\"v\":1,\"station\":\"S1\",…}"}

``p``/``o``: source partition and offset, ``t``: Kafka timestamp (ms), ``k``: key, ``v``: the value
as text, or ``b``: base64 when it is not UTF-8 — bytes are kept exactly, malformed ones too.

Each flush of the archive appends one complete zstd frame (with its checksum) and fsyncs it before
the consumer offsets are committed, so a file is a sequence of frames. A crash can leave a
partial last frame (records not committed, which come again): the writer cuts it off before it
appends (:func:`repair`) and readers ignore it. A crash between the fsync and the commit archives
some records twice; they are later in the same file (same day, same partition) and readers drop
them by offset. Why zstd JSON lines and not Parquet: docs/replay.md (measured by
bench/bench_replay.py --archive-formats).
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import msgspec
import zstandard

log = logging.getLogger(__name__)

SUFFIX = ".jsonl.zst"
LEVEL = 3  # zstd's default: see the format measurement in docs/replay.md
KINDS = ("air", "water", "deadletter")


class ArchiveError(RuntimeError):
    """The archive cannot be read; the message names the file or directory and what is wrong."""


class ArchivedRecord(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One Kafka record as archived."""

    p: int
    o: int
    t: int
    k: str | None = None
    v: str | None = None
    b: str | None = None

    @classmethod
    def of(
        cls, partition: int, offset: int, ts_ms: int, key: bytes | None, value: bytes
    ) -> ArchivedRecord:
        k = key.decode("utf-8", "backslashreplace") if key is not None else None
        try:
            return cls(partition, offset, ts_ms, k, v=value.decode("utf-8"))
        except UnicodeDecodeError:
            return cls(partition, offset, ts_ms, k, b=base64.b64encode(value).decode("ascii"))

    @property
    def value(self) -> bytes:
        return self.v.encode("utf-8") if self.v is not None else base64.b64decode(self.b or "")

    @property
    def key(self) -> bytes | None:
        return None if self.k is None else self.k.encode("utf-8")


encode_line = msgspec.json.Encoder().encode
_decode_line = msgspec.json.Decoder(ArchivedRecord).decode


def file_path(root: Path, namespace: str, day: date, kind: str, partition: int) -> Path:
    return root / namespace / day.isoformat() / f"{kind}-p{partition:03d}{SUFFIX}"


def parse_name(path: Path) -> tuple[date, str, int] | None:
    """(day, kind, partition) of an archive file's path, or None if it is not one."""
    name = path.name
    if not name.endswith(SUFFIX):
        return None
    kind, _, part = name[: -len(SUFFIX)].rpartition("-p")
    try:
        return date.fromisoformat(path.parent.name), kind, int(part)
    except ValueError:
        return None


def frame(lines: list[bytes]) -> bytes:
    """One zstd frame (content size and checksum included) of newline-terminated lines."""
    compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    return compressor.compress(b"".join(line + b"\n" for line in lines))


def _frames(data: bytes, path: Path) -> Iterator[tuple[int, bytes]]:
    """(end position, content) of every complete frame; raises :class:`ArchiveError` for bytes
    that are no zstd frame or fail their checksum; stops at a partial last frame."""
    position = 0
    while position < len(data):
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        try:
            content = decompressor.decompress(data[position:])
        except zstandard.ZstdError as exc:
            raise ArchiveError(
                f"archive file {path} is corrupt at byte {position}: {exc}"
            ) from None
        if not decompressor.eof:
            return  # a partial last frame: written by a process that died before its commit
        end = len(data) - len(decompressor.unused_data)
        yield end, content
        position = end


def complete_length(path: Path) -> int:
    """The length of the file's complete frames."""
    return max((end for end, _ in _frames(path.read_bytes(), path)), default=0)


def repair(path: Path) -> int:
    """Cut a partial last frame off ``path`` before appending to it; the bytes removed."""
    size = path.stat().st_size
    keep = complete_length(path)
    if keep < size:
        with open(path, "r+b") as fh:
            fh.truncate(keep)
            os.fsync(fh.fileno())
        log.warning("archive_partial_frame_removed file=%s bytes=%d", path, size - keep)
    return size - keep


def read_records(path: Path, limit: int | None = None) -> Iterator[ArchivedRecord]:
    """The records of one archive file (its first ``limit`` bytes) in offset order, records
    archived twice dropped."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(-1 if limit is None else limit)
    except OSError as exc:
        raise ArchiveError(f"archive file {path}: {exc.strerror}") from None
    last = -1
    end = 0
    for end, content in _frames(data, path):
        for number, line in enumerate(content.splitlines(), 1):
            try:
                record = _decode_line(line)
            except msgspec.DecodeError as exc:
                raise ArchiveError(
                    f"archive file {path} is corrupt: line {number} of the frame ending at byte "
                    f"{end}: {exc}"
                ) from None
            if record.o > last:
                last = record.o
                yield record
    if end < len(data):
        log.warning("archive_partial_frame_ignored file=%s bytes=%d", path, len(data) - end)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
