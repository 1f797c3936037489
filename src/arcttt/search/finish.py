"""What a learner returns: the call that finishes a partial program, with its cost and a test-time check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Finish:
    """How a learner finishes a program: the call to add, its cost, and a test-time check."""

    fn: str
    literals: tuple
    cost: int
    covers: object = None  # callable(state grid on a test input) -> bool


def same_shapes(outs: list[np.ndarray], targets: list[np.ndarray]) -> bool:
    return all(o.shape == t.shape for o, t in zip(outs, targets))
