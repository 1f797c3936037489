"""A learned last step that works cell by cell: a rule from each cell's neighbourhood to its new colour.

The rule must have seen every neighbourhood the test inputs show (arcttt.search.marker_learners
generalises further, for grids of a few marker cells).
"""

from __future__ import annotations

import numpy as np

from .finish import Finish, same_shapes
from .program import primitive


def neighbourhood(g: np.ndarray, kind: str) -> np.ndarray:
    """Per cell, its feature vector: 'n4' its colour and its 4 neighbours', 'n8' its 3 x 3 block
    (outside the grid counts as 255)."""
    p = np.pad(g.astype(np.int16), 1, constant_values=255)
    h, w = g.shape
    if kind == "n4":
        offsets = ((1, 1), (0, 1), (2, 1), (1, 0), (1, 2))
    else:
        offsets = tuple((r, c) for r in range(3) for c in range(3))
    return np.stack([p[r:r + h, c:c + w] for r, c in offsets], axis=-1)


def _keys(features: np.ndarray) -> list[tuple]:
    return [tuple(int(v) for v in f) for f in features.reshape(-1, features.shape[-1])]


@primitive("local_rule")
def local_rule(g: np.ndarray, kind: str, changes: dict) -> np.ndarray:
    """Cells whose neighbourhood (see `neighbourhood`) is a key of `changes` take its colour."""
    out = g.copy().ravel()
    for i, key in enumerate(_keys(neighbourhood(g, kind))):
        if key in changes:
            out[i] = changes[key]
    return out.reshape(g.shape)


MAX_RULE_ENTRIES = 40
"""A neighbourhood rule that needs more changed entries than this is too specific to trust."""


def learn_local_rule(outs, targets, kind: str) -> Finish | None:
    """The table from each cell's neighbourhood ('n4' or 'n8') to its output colour, if one fits every
    demonstration and needs at most MAX_RULE_ENTRIES changes."""
    if not same_shapes(outs, targets):
        return None
    table: dict[tuple, int] = {}
    for o, t in zip(outs, targets):
        for key, v in zip(_keys(neighbourhood(o, kind)), t.ravel().tolist()):
            if table.setdefault(key, v) != v:
                return None
    changes = {k: v for k, v in table.items() if k[len(k) // 2 if kind == "n8" else 0] != v}
    if not changes or len(changes) > MAX_RULE_ENTRIES:
        return None
    seen = set(table)
    return Finish("local_rule", (kind, changes), 2 if kind == "n4" else 3,
                  lambda g: set(_keys(neighbourhood(g, kind))) <= seen)

