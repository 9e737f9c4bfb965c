"""Coverage-guided fuzzing of the deframer, parser and receiver with atheris (libFuzzer).

Run by ``test_fuzz.py`` for a bounded number of inputs, or by hand for longer::

    .venv/bin/python tests/unit/hj212/atheris_hj212.py -runs=1000000

Any exception escaping, or a deframer holding more than one frame plus one read, is a crash.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from pipeline.hj212.frame import MAX_FRAME, Deframer
    from pipeline.hj212.receiver import Receiver


def one_input(data: bytes) -> None:
    if not data:
        return
    size = data[0] + 1  # the first byte picks the read size
    deframer, receiver = Deframer(), Receiver(None)
    for i in range(1, len(data), size):
        for piece in deframer.feed(data[i : i + size]):
            receiver.receive(piece)
        if deframer.pending > MAX_FRAME + size:
            raise AssertionError(f"deframer holds {deframer.pending} bytes")
    for piece in deframer.close():
        receiver.receive(piece)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
