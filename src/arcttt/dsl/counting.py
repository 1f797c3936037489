"""Primitives whose result depends on a count in the grid: a scale factor from the number of colours,
objects or cells, and the grid's cells gathered into one row (so that a count becomes a length).

Designed from ARC-AGI-1 training tasks such as ac0a08a4 (scale by the number of colours) and d631b094
(the cells in a row). Every function takes a uint8 grid and returns a new one, or raises Reject.
"""

from __future__ import annotations

import numpy as np

from .analysis import objects
from .reject import Reject

COUNTS = {
    "colours": lambda g: len(np.unique(g[g != 0])),
    "objects": lambda g: len(objects(g, by_colour=False)),
    "cells": lambda g: int((g != 0).sum()),
}

MAX_FACTOR = 6
"""Larger scale factors make grids beyond ARC's 30 x 30 for all but the smallest inputs."""


def scale_by_count(g: np.ndarray, count: str) -> np.ndarray:
    """Every cell blown up to an f x f block, f the number of the grid's colours, objects or cells
    (other than the background)."""
    f = COUNTS[count](g)
    if not 2 <= f <= MAX_FACTOR:
        raise Reject("no scale factor between 2 and the limit")
    return np.kron(g, np.ones((f, f), np.uint8)).astype(np.uint8)


def cells_in_a_row(g: np.ndarray) -> np.ndarray:
    """The grid's non-background cells, in reading order, as one row."""
    cells = g[g != 0]
    if not 0 < len(cells) <= 30:
        raise Reject("no cells, or more than a row holds")
    return cells.reshape(1, -1).copy()
