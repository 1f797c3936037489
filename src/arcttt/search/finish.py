"""What a learner returns: the call that finishes a partial program, with its cost and a test-time check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Finish:
    """How a learner finishes a program: the call to add, its cost, and a test-time check."""

    fn: str
    literals: tuple
    cost: int
    covers: Callable[[np.ndarray], bool] | None = None  # on the partial program's grid for a test input


def same_shapes(outs: list[np.ndarray], targets: list[np.ndarray]) -> bool:
    """Whether each state grid has its demonstration output's shape."""
    return len(outs) == len(targets) and all(o.shape == t.shape for o, t in zip(outs, targets))
