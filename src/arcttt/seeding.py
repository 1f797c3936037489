"""Stable seeds derived from (run seed, task id, ...), so every random choice is reproducible.

Python's hash() is salted per process, so it is never used here.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(*parts) -> int:
    """A 63-bit seed from any printable parts, stable across processes and machines."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def rng_for(*parts) -> np.random.Generator:
    return np.random.default_rng(derive_seed(*parts))
