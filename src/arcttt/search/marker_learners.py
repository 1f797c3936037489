"""Learned last steps for grids of a few marker cells: a patch painted around every marker of a colour
(a stamp), lines across the grid through the markers, and markers drawn to the cells that attract them.

These generalise further than a neighbourhood rule by construction: what each marker does is read
off the demonstrations per colour, so a test grid with its markers in places the demonstrations never
had is still answered, as long as every colour it holds played its part in the demonstrations.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage

from .finish import Finish, same_shapes
from .program import primitive


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


LINE_ORIENTATIONS = ("h", "v", "hv", "own")
"""How a marker cell's line runs: along its row, its column, both, or the way its own segment runs."""


@primitive("lines_through")
def lines_through(g: np.ndarray, orient: dict, on_top: str = "h", cross: int | None = None) -> np.ndarray:
    """A line across the whole grid through every marker cell, along the row and/or column that
    `orient` gives its colour ('own': along the marker's own two-cell segment); the rows are painted
    over the columns (`on_top` 'h') or under them, and where a row line and a column line cross on
    background, `cross` (if given) is painted."""
    h, w = g.shape
    rows, cols = np.full(g.shape, -1, np.int16), np.full(g.shape, -1, np.int16)
    for r, c in zip(*np.nonzero(g)):
        k = int(g[r, c])
        way = orient[k]
        if way == "own":
            way = "h" if (c > 0 and g[r, c - 1] == k) or (c + 1 < w and g[r, c + 1] == k) else "v"
        if "h" in way:
            rows[r, :] = k
        if "v" in way:
            cols[:, c] = k
    out = g.copy()
    for layer in ((cols, rows) if on_top == "h" else (rows, cols)):
        out[layer >= 0] = layer[layer >= 0]
    if cross is not None:
        out[(rows >= 0) & (cols >= 0) & (g == 0)] = cross
    return out


MAX_LINE_COLOURS = 3


def learn_lines(outs, targets) -> Finish | None:
    """Lines through the marker cells: each marker colour's orientation, which lines lie on top and the
    colour of crossings, tried in turn until one reproduces every demonstration."""
    if not same_shapes(outs, targets) or not all(0 < np.count_nonzero(o) <= MAX_MARKERS for o in outs):
        return None
    for o, t in zip(outs, targets):  # every change lies on a marker's row or column
        changed = o != t
        if not changed.any() or (changed & ~(o != 0).any(axis=1, keepdims=True) & ~(o != 0).any(axis=0)).any():
            return None
    colours = sorted({int(v) for o in outs for v in np.unique(o[o != 0])})
    if len(colours) > MAX_LINE_COLOURS:
        return None
    new = sorted({int(v) for t in targets for v in np.unique(t)} - {int(v) for o in outs for v in np.unique(o)})
    for ways in itertools.product(LINE_ORIENTATIONS, repeat=len(colours)):
        orient = dict(zip(colours, ways))
        for on_top in ("h", "v"):
            for cross in (None, *new):
                if all(np.array_equal(lines_through(o, orient, on_top, cross), t) for o, t in zip(outs, targets)):
                    seen = set(colours)
                    return Finish("lines_through", (orient, on_top, cross), 2,
                                  lambda g: set(np.unique(g[g != 0]).tolist()) <= seen)
    return None


_STEPS4 = ((-1, 0), (1, 0), (0, -1), (0, 1))
_STEPS8 = _STEPS4 + ((-1, -1), (-1, 1), (1, -1), (1, 1))


def _single_cells(g: np.ndarray) -> np.ndarray:
    """Non-background cells with no 4-neighbour of their own colour."""
    p = np.pad(g, 1, constant_values=255)
    h, w = g.shape
    alone = g != 0
    for dr, dc in _STEPS4:
        alone &= p[1 + dr:1 + dr + h, 1 + dc:1 + dc + w] != g
    return alone


@primitive("attract")
def attract(g: np.ndarray, anchors: tuple | str, diag: bool = False, trail: bool = False,
            keep: bool = False) -> np.ndarray:
    """Every single cell not of an anchor colour travels in a straight line (4 directions, or 8 with
    `diag`) to the nearest anchor cell it sees across background: it ends beside that cell, or with
    `trail` it stays and draws its path up to it. A mover that sees no anchor vanishes (stays, with
    `keep`). anchors='own': every single cell moves, attracted by the larger shapes of its own colour
    and passing over other colours."""
    h, w = g.shape
    own = anchors == "own"
    moving = _single_cells(g) & (True if own else ~np.isin(g, anchors))
    out = g.copy()
    if not trail:
        out[moving] = 0
    for r, c in zip(*np.nonzero(moving)):
        k, best = g[r, c], None
        for dr, dc in (_STEPS8 if diag else _STEPS4):
            rr, cc, n = r + dr, c + dc, 1
            while 0 <= rr < h and 0 <= cc < w and (g[rr, cc] == 0 or moving[rr, cc] or (own and g[rr, cc] != k)):
                rr, cc, n = rr + dr, cc + dc, n + 1
            hit = 0 <= rr < h and 0 <= cc < w and (g[rr, cc] == k if own else g[rr, cc] in anchors)
            if hit and (best is None or n < best[0]):
                best = (n, dr, dc)
        if best is None:
            if keep:
                out[r, c] = k
            continue
        n, dr, dc = best
        if trail:
            for i in range(1, n):
                if out[r + i * dr, c + i * dc] == 0:
                    out[r + i * dr, c + i * dc] = k
        else:
            out[r + (n - 1) * dr, c + (n - 1) * dc] = k
    return out


MAX_MOVERS = 30


def learn_attract(outs, targets) -> Finish | None:
    """Which colours attract the single cells (each its own colour's shapes, or the colours read off the
    demonstrations: those whose cells all stay put, or those that form shapes larger than one cell),
    the directions, trails, and what happens to a mover with nothing in sight; the first combination
    that reproduces every output."""
    if not same_shapes(outs, targets) or all(np.array_equal(o, t) for o, t in zip(outs, targets)):
        return None
    singles = [_single_cells(o) for o in outs]
    if not all(0 < s.sum() <= MAX_MOVERS for s in singles):
        return None
    colours = {int(v) for o in outs for v in np.unique(o[o != 0])}
    changed = {int(v) for o, t in zip(outs, targets) for v in np.unique(o[(o != t) & (o != 0)])}
    shaped = {int(v) for o, s in zip(outs, singles) for v in np.unique(o[(o != 0) & ~s])}
    anchor_sets = ["own"]
    for anchors in (colours - changed, shaped):
        if anchors and colours - anchors:
            anchor_sets.append(tuple(sorted(anchors)))
    for anchors in anchor_sets:
        for diag, trail, keep in itertools.product((False, True), repeat=3):
            if trail and keep:
                continue
            if all(np.array_equal(attract(o, anchors, diag, trail, keep), t) for o, t in zip(outs, targets)):
                return Finish("attract", (anchors, diag, trail, keep), 2)  # every colour has a part
    return None
