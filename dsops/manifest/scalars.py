"""Arrow scalars built from raw buffers, for the checks every read of a manifest runs.

Converting a Python value to Arrow — ``pa.scalar("")``, or ``pc.equal(column, "")``, which
does it implicitly — makes pyarrow import pandas (a third of a second) to check whether
the value is one of pandas' types. Every command that reads a version validates its
manifest, so the constants those checks compare with are built from buffers instead, and
``dsops get`` of a cached version never imports pandas.
"""

from __future__ import annotations

import struct

import pyarrow as pa


def string(text: str) -> pa.Scalar:
    data = text.encode()
    offsets = pa.py_buffer(struct.pack("<ii", 0, len(data)))
    return pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(data)])[0]


def int64(value: int) -> pa.Scalar:
    return pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(struct.pack("<q", value))])[0]


def strings(text: str, count: int) -> pa.Array:
    """``count`` copies of ``text``."""
    return pa.repeat(string(text), count)


EMPTY = string("")
ZERO = int64(0)
