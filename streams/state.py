"""Typed access to a raw-bytes Faust table: msgpack-encoded msgspec structs per key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import faust
import msgspec

T = TypeVar("T")


class StructTable(Generic[T]):
    """Reads decode, writes encode; ``default`` makes the value of a key never seen."""

    def __init__(self, table: faust.Table, type_: type[T], default: Callable[[str], T]) -> None:
        self.table = table
        self.default = default
        self._decoder = msgspec.msgpack.Decoder(type_)
        self._encoder = msgspec.msgpack.Encoder()

    def get(self, key: str) -> T:
        raw = self.table.get(key.encode())
        return self.default(key) if raw is None else self._decoder.decode(raw)

    def put(self, key: str, value: T) -> None:
        """Call inside ``runtime.in_event`` with an event of the key's partition."""
        self.table[key.encode()] = self._encoder.encode(value)

    def __len__(self) -> int:
        return len(self.table)
