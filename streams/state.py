"""Typed access to a raw-bytes Faust table: msgpack-encoded msgspec structs per key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import faust
import msgspec

T = TypeVar("T")


class StructTable(Generic[T]):
    """Reads decode, writes encode; ``default`` makes the value of a key never seen.

    A write that would store the bytes already stored (or a never-seen key's default) is left
    out: every table write is a changelog message, and most batches leave e.g. a station's alert
    states as they were.
    """

    def __init__(self, table: faust.Table, type_: type[T], default: Callable[[str], T]) -> None:
        self.table = table
        self.default = default
        self._decoder = msgspec.msgpack.Decoder(type_)
        self._encoder = msgspec.msgpack.Encoder()

    def get(self, key: str) -> T:
        raw = self.table.get(key.encode())
        return self.default(key) if raw is None else self._decoder.decode(raw)

    def put(self, key: str, value: T) -> bool:
        """Store ``value`` unless it is stored already; whether it was written. Call inside
        ``runtime.in_event`` with an event of the key's partition."""
        raw_key = key.encode()
        raw = self._encoder.encode(value)
        stored = self.table.get(raw_key)
        if raw == (self._encoder.encode(self.default(key)) if stored is None else stored):
            return False
        self.table[raw_key] = raw
        return True

    def values(self) -> Iterator[T]:
        """Every stored value (of the partitions this worker holds)."""
        for raw in self.table.values():
            yield self._decoder.decode(raw)

    def __len__(self) -> int:
        return len(self.table)
