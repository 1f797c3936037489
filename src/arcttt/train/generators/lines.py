"""Line families: rays to a border or an obstacle, crosses, diagonals, connecting dots, frames."""

from __future__ import annotations

import numpy as np

from .core import Reject, any_grid, colour, colours, family, scaled, variants
from .objects import DIRS, dir_params, in_direction


def dots(rng, d, lo=4, hi=22, n_lo=1, n_hi=6, cols=None, h=None, w=None, spread=True):
    """Single pixels; with spread, no two share a row or a column."""
    h = scaled(rng, d, lo, hi) if h is None else h
    w = scaled(rng, d, lo, hi) if w is None else w
    n = min(scaled(rng, d, n_lo, n_hi), h, w)
    g = np.zeros((h, w), np.uint8)
    if spread:
        rr = rng.choice(h, size=n, replace=False)
        cc = rng.choice(w, size=n, replace=False)
    else:
        flat = rng.choice(h * w, size=n, replace=False)
        rr, cc = flat // w, flat % w
    cs = cols if cols is not None else colours(rng, scaled(rng, d, 1, 4))
    g[rr, cc] = rng.choice(cs, size=n)
    return g


def _ray_down(g, p):
    """Each coloured cell paints the background below it, stopping at the first non-background cell
    (or not stopping: p['through'])."""
    out = g.copy()
    for c in np.flatnonzero((g != 0).any(axis=0)):
        col = g[:, c]
        src = 0
        for r in range(len(col)):
            v = col[r]
            if v != 0 and (not p.get("only") or v == p["only"]):
                src = v
            elif v != 0:
                src = 0
            elif src:
                out[r, c] = src
    return out


family("rays_to_border", "every dot shoots a line of its colour to one side of the grid",
       lambda g, p: in_direction(_ray_down, g, p), lambda rng, p, d: dots(rng, d), dir_params)


def _obstacle_input(rng, p, d):
    g = any_grid(rng, d, 5, 22, cols=[p["wall"]], density=float(rng.uniform(0.05, 0.2)))
    free = np.flatnonzero(g.ravel() == 0)
    k = min(len(free), scaled(rng, d, 1, 6))
    g.ravel()[rng.choice(free, size=k, replace=False)] = p["only"]
    return g


def _obstacle_params(rng, d):
    a, b = colours(rng, 2)
    return dir_params(rng, d) | {"only": a, "wall": b}


family("rays_to_obstacle", "dots of one colour shoot a line in a fixed direction until they hit a wall cell",
       lambda g, p: in_direction(_ray_down, g, p), _obstacle_input, _obstacle_params)


def _cross(g, p):
    out = g.copy()
    rr, cc = np.nonzero(g)
    for r, c in zip(rr, cc):
        out[r, :] = g[r, c]
    for r, c in zip(rr, cc):
        out[:, c] = g[r, c]
    if p["keep_centre"]:
        out[rr, cc] = p["keep_centre"]
    return out


family("cross_lines", "each dot draws its whole row and column (columns on top); centres may be marked", _cross,
       lambda rng, p, d: dots(rng, d, 3, 20, 1, 4, cols=colours(rng, 3, exclude=(0, p["keep_centre"]))),
       lambda rng, d: {"keep_centre": int(rng.choice([0, colour(rng)]))})


def _diagonals(g, p):
    out = g.copy()
    h, w = g.shape
    rr, cc = np.nonzero(g)
    ar, ac = np.indices((h, w))
    for r, c in zip(rr, cc):
        on = (np.abs(ar - r) == np.abs(ac - c)) & (out == 0)
        out[on] = g[r, c]
    return out


family("diagonal_rays", "each dot draws both diagonals through itself across the grid (first dots win)",
       _diagonals, lambda rng, p, d: dots(rng, d, 3, 20, 1, 3), split="held-out")


def _connect(g, p):
    """Same-coloured dots sharing a row (then a column) are joined by a line of their colour;
    lines only cover background, so horizontal lines win where lines cross."""
    out = g.copy()
    for src, tgt in ((g, out), (g.T, out.T)):
        for i in np.flatnonzero((src != 0).sum(axis=1) >= 2):
            row = src[i]
            for c in np.unique(row[row != 0]):
                idx = np.flatnonzero(row == c)
                if len(idx) >= 2:
                    seg = tgt[i, idx[0]:idx[-1] + 1]
                    seg[seg == 0] = c
    return out


def _pairs_input(rng, p, d):
    h, w = scaled(rng, d, 5, 22), scaled(rng, d, 5, 22)
    g = np.zeros((h, w), np.uint8)
    n = scaled(rng, d, 1, 5)
    cs = colours(rng, n)
    for c in cs:
        if rng.random() < 0.5:
            r = int(rng.integers(h))
            a, b = rng.choice(w, size=2, replace=False)
            if g[r].any():
                raise Reject("row taken")
            g[r, a], g[r, b] = c, c
        else:
            col = int(rng.integers(w))
            a, b = rng.choice(h, size=2, replace=False)
            if g[:, col].any():
                raise Reject("column taken")
            g[a, col], g[b, col] = c, c
    return g


family("connect_dots", "join each pair of same-coloured dots in a row or column with a line of their colour",
       _connect, _pairs_input)


def _frame(g, p):
    out = g.copy()
    t = p["t"]
    out[:t, :] = out[-t:, :] = p["c"]
    out[:, :t] = out[:, -t:] = p["c"]
    return out


family("draw_frame", "draw a border of a fixed colour and thickness around the grid", _frame,
       lambda rng, p, d: any_grid(rng, d, 3, 20, cols=colours(rng, 2, exclude=(0, p["c"])), density=0.3),
       lambda rng, d: {"c": colour(rng), "t": int(rng.choice([1, 1, 2]))})


def _to_wall(g, p):
    """A full wall column of colour p['wall']; every other dot draws a horizontal line up to the wall."""
    walls = np.flatnonzero((g == p["wall"]).all(axis=0))
    if len(walls) != 1:
        raise Reject("needs exactly one wall column")
    x = int(walls[0])
    out = g.copy()
    for r, c in zip(*np.nonzero((g != 0) & (g != p["wall"]))):
        if c < x:
            out[r, c:x] = g[r, c]
        else:
            out[r, x + 1:c + 1] = g[r, c]
    return out


def _wall_input(rng, p, d):
    g = dots(rng, d, 5, 22, 1, 6, cols=colours(rng, 2, exclude=(0, p["wall"])))
    x = int(rng.integers(g.shape[1]))
    g[:, x] = p["wall"]
    return g


family("lines_to_wall", "dots draw horizontal lines toward the wall column until they touch it", _to_wall,
       _wall_input, lambda rng, d: {"wall": colour(rng)})


def _grid_lines(g, p):
    """Every dot's row and column are painted with a fixed colour where background, dots kept."""
    rows = (g != 0).any(axis=1)
    cols = (g != 0).any(axis=0)
    paint = (rows[:, None] | cols[None, :]) & (g == 0)
    return np.where(paint, p["c"], g).astype(np.uint8)


family("dot_gridlines", "paint the background of every dot's row and column in a fixed colour", _grid_lines,
       lambda rng, p, d: dots(rng, d, 3, 20, 1, 4, cols=colours(rng, 2, exclude=(0, p["c"])), spread=False),
       lambda rng, d: {"c": colour(rng)})

# other values each parameter could take; demonstrations must rule them out
variants("rays_to_border", dir=DIRS)
variants("rays_to_obstacle", dir=DIRS)
