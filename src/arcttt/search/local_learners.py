"""Learned last steps that work cell by cell: a rule from each cell's neighbourhood to its new colour,
and a patch painted around every cell of a colour (a stamp).

The neighbourhood rule must have seen every neighbourhood the test inputs show. A stamp generalises
further by construction: the patches of separate cells superpose, so a test grid with its marker
cells in places the demonstrations never had is still answered, as long as every colour it holds was
a marker colour in the demonstrations.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

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



def learn_local_rule(outs, targets, kind: str) -> Finish | None:
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


MAX_RULE_ENTRIES = 40
"""A neighbourhood rule that needs more changed entries than this is too specific to trust."""



@primitive("stamp")
def stamp(g: np.ndarray, table: dict) -> np.ndarray:
    """Around every cell of colour k, in reading order, each offset (dr, dc) with an entry (k, dr, dc)
    in `table` takes that colour: the cell itself always, a neighbour only where the input has
    background there (later patches paint over earlier ones)."""
    out = g.copy()
    h, w = g.shape
    by_colour: dict[int, list] = {}
    for (k, dr, dc), v in table.items():
        by_colour.setdefault(k, []).append((dr, dc, v))
    for r, c in zip(*np.nonzero(g)):
        for dr, dc, v in by_colour.get(int(g[r, c]), ()):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and ((dr, dc) == (0, 0) or g[rr, cc] == 0):
                out[rr, cc] = v
    return out


STAMP_RADII = (1, 2)
"""Patch sizes tried: 3 x 3, then 5 x 5 around each marker cell."""
MAX_MARKERS = 40
"""A stamp is learned only from grids with at most this many non-background cells (markers are few)."""


def learn_stamp(outs, targets) -> Finish | None:
    """The patch each colour's cells paint around them, read off the demonstrations (an offset whose
    colour differs between demonstrations is left unpainted), if it reproduces every output."""
    if not same_shapes(outs, targets) or not all(0 < np.count_nonzero(o) <= MAX_MARKERS for o in outs):
        return None
    for radius in STAMP_RADII:
        near = [ndimage.binary_dilation(o != 0, np.ones((2 * radius + 1,) * 2, bool)) for o in outs]
        if any((o != t)[~m].any() for o, t, m in zip(outs, targets, near)):
            continue
        seen: dict[tuple, int | None] = {}
        for o, t in zip(outs, targets):
            h, w = o.shape
            for r, c in zip(*np.nonzero(o)):
                k = int(o[r, c])
                for dr in range(-radius, radius + 1):
                    for dc in range(-radius, radius + 1):
                        rr, cc = r + dr, c + dc
                        if 0 <= rr < h and 0 <= cc < w and ((dr, dc) == (0, 0) or o[rr, cc] == 0):
                            key, v = (k, dr, dc), int(t[rr, cc])
                            seen[key] = v if seen.get(key, v) == v else None
        table = {key: v for key, v in sorted(seen.items())
                 if v is not None and v != (key[0] if key[1:] == (0, 0) else 0)}
        if table and all(np.array_equal(stamp(o, table), t) for o, t in zip(outs, targets)):
            for key in list(table):  # entries the outputs do not need (a neighbour's paint read as this colour's)
                rest = {k: v for k, v in table.items() if k != key}
                if rest and all(np.array_equal(stamp(o, rest), t) for o, t in zip(outs, targets)):
                    table = rest
            markers = {key[0] for key in seen}
            if markers - {key[0] for key in table}:  # the demonstrations show colours that paint nothing:
                return Finish("stamp", (table,), 1 + radius)  # a colour they never show is one more of those
            return Finish("stamp", (table,), 1 + radius, lambda g: set(np.unique(g[g != 0]).tolist()) <= markers)
    return None
