"""Rules read off the grid's border: cells that take the colour of the nearest coloured border cell in
their row or column, and the concentric rings of a grid recoloured in reverse or rotated order.

Every function takes a uint8 grid (and plain parameters) and returns a new grid; one that does not
apply raises Reject (as in arcttt.dsl.grid_ops).
"""

from __future__ import annotations

import numpy as np

from .reject import Reject


def colour_from_border(g: np.ndarray, c: int, bg: int = 0) -> np.ndarray:
    """Every cell of colour `c` takes the colour of the nearest border cell of its row or column that is
    neither background nor `c` (the header of its row, the line along the nearer edge)."""
    h, w = g.shape
    cells = np.argwhere(g == c)
    if not len(cells):
        raise Reject("no cell of the colour")
    out = g.copy()
    for r, k in cells:
        ends = [(k, g[r, 0]), (w - 1 - k, g[r, w - 1]), (r, g[0, k]), (h - 1 - r, g[h - 1, k])]
        ends = [(d, int(v)) for d, v in ends if v not in (bg, c)]
        nearest = {v for d, v in ends if d == min(d for d, _ in ends)} if ends else set()
        if len(nearest) != 1:
            raise Reject("no single nearest border colour")
        out[r, k] = nearest.pop()
    return out


def rings(g: np.ndarray) -> np.ndarray:
    """Each cell's ring: its distance to the nearest edge of the grid."""
    h, w = g.shape
    r, k = np.indices(g.shape)
    return np.minimum(np.minimum(r, k), np.minimum(h - 1 - r, w - 1 - k))


def permute_rings(g: np.ndarray, how: str) -> np.ndarray:
    """A grid of concentric rings, each of one colour, recoloured (each band of rings keeps its width,
    only the colours move): the sequence of band colours from the outside in reversed ('reverse', each
    colour once), or each colour replaced by the one before it in order of first appearance from the
    outside, the first by the last ('rotate': the colours move one band inwards)."""
    if how not in ("reverse", "rotate"):
        raise ValueError(f"unknown ring permutation {how!r}")
    layer = rings(g)
    sequence = []
    for i in range(int(layer.max()) + 1):
        values = np.unique(g[layer == i])
        if len(values) != 1:
            raise Reject("a ring of several colours")
        if not sequence or sequence[-1] != int(values[0]):
            sequence.append(int(values[0]))
    colours = list(dict.fromkeys(sequence))
    if len(colours) < 2 or (how == "reverse" and len(colours) != len(sequence)):
        raise Reject("no sequence of distinct ring colours")
    new = colours[::-1] if how == "reverse" else colours[-1:] + colours[:-1]
    lut = np.arange(256, dtype=np.uint8)
    lut[colours] = new
    return lut[g]
