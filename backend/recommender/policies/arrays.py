"""numpy arrays in JSON: little-endian float64 bytes in base64, with the shape.

Exact (no decimal round trip drifts a Cholesky factor), compact (a 16×16 matrix is ~2.7 kB of
text instead of ~5 kB of decimal floats), and refuses non-finite values so a NaN can never be
stored and come back to poison every later decision.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

_DTYPE = "<f8"


def pack(array: np.ndarray) -> dict[str, Any]:
    """A JSON-safe form of a float array."""
    a = np.ascontiguousarray(array, dtype=_DTYPE)
    if not np.all(np.isfinite(a)):
        raise ValueError("refusing to store a non-finite array")
    return {
        "dtype": _DTYPE,
        "shape": list(a.shape),
        "b64": base64.b64encode(a.tobytes()).decode("ascii"),
    }


def unpack(obj: Mapping[str, Any]) -> np.ndarray:
    """The array `pack` stored (a writable copy)."""
    if obj.get("dtype") != _DTYPE:
        raise ValueError(f"unsupported array dtype {obj.get('dtype')!r}")
    shape = tuple(map(int, obj["shape"]))
    try:
        raw = base64.b64decode(obj["b64"], validate=True)
    except binascii.Error as err:
        raise ValueError(f"bad array data: {err}") from None
    size = math.prod(shape) * 8
    if len(raw) != size:
        raise ValueError(f"array of shape {shape} needs {size} bytes, got {len(raw)}")
    # frombuffer over bytes is read-only; policies treat arrays as values, but a copy keeps
    # an accidental in-place update from failing far from here.
    return np.frombuffer(raw, dtype=_DTYPE).reshape(shape).copy()


def is_packed(obj: object) -> bool:
    """Whether `obj` looks like a packed array."""
    return isinstance(obj, Mapping) and {"dtype", "shape", "b64"} <= obj.keys()
