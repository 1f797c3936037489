"""Region families: filling enclosed areas, flood fill from seeds, checkerboard fills, concentric rings."""

from __future__ import annotations

import numpy as np

from .core import Reject, colour, colours, family, label, place, reachable_from_border, scaled, variants


def outline(h: int, w: int) -> np.ndarray:
    m = np.ones((h, w), bool)
    m[1:-1, 1:-1] = False
    return m


def boxes(rng, d, wall, n_hi=4, lo=3, hi=8, gaps=0.0, size_hi=24):
    """Rectangle outlines of colour `wall`; returns the grid and the boxes (r, c, h, w).
    With probability `gaps`, a box gets a one-cell opening in its outline."""
    H, W = scaled(rng, d, 6, size_hi), scaled(rng, d, 6, size_hi)
    g = np.zeros((H, W), np.uint8)
    occ = np.zeros((H, W), bool)
    out = []
    for _ in range(scaled(rng, d, 1, n_hi)):
        h, w = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
        pos = place(rng, occ, (h, w), 1)
        if pos is None:
            continue
        r, c = pos
        m = outline(h, w)
        if rng.random() < gaps:
            side = np.flatnonzero(m & ~np.pad(np.ones((h - 2, w - 2), bool), 1) & _not_corner(h, w))
            m.flat[rng.choice(side)] = False
        g[r:r + h, c:c + w][m] = wall
        out.append((r, c, h, w))
    if not out:
        raise Reject("no box fits")
    return g, out


def _not_corner(h, w):
    m = np.ones((h, w), bool)
    m[[0, 0, -1, -1], [0, -1, 0, -1]] = False
    return m


def _fill_enclosed(g, p):
    inside = (g == 0) & ~reachable_from_border(g == 0)
    return np.where(inside, p["c"], g).astype(np.uint8)


family("fill_enclosed", "fill background cells that are enclosed (not reachable from the edge) with a fixed colour",
       _fill_enclosed, lambda rng, p, d: boxes(rng, d, p["wall"], gaps=0.3 * d + 0.1)[0],
       lambda rng, d: dict(zip(["wall", "c"], colours(rng, 2))))


def _flood(g, p):
    free = g != p["wall"]
    inside = free & ~reachable_from_border(free)
    lab, n = label(g, inside, by_colour=False)
    out = g.copy()
    for k in range(n):
        region = lab == k
        seeds = np.unique(g[region])
        seeds = seeds[seeds != 0]
        if len(seeds) == 1:
            out[region] = seeds[0]
    return out


def _flood_input(rng, p, d):
    g, bs = boxes(rng, d, p["wall"])
    cs = colours(rng, 3, exclude=(0, p["wall"]))
    for r, c, h, w in bs:
        if rng.random() < 0.8 or len(bs) == 1:
            g[r + int(rng.integers(1, h - 1)), c + int(rng.integers(1, w - 1))] = rng.choice(cs)
    return g


family("flood_from_seed", "fill each closed box with the colour of the seed pixel inside it", _flood, _flood_input,
       lambda rng, d: {"wall": colour(rng)})


def _checker(g, p):
    inside = (g == 0) & ~reachable_from_border(g == 0)
    lab, n = label(g, inside, by_colour=False)
    out = g.copy()
    rr, cc = np.indices(g.shape)
    for k in range(n):
        region = lab == k
        r0, c0 = rr[region].min(), cc[region].min()
        out[region & ((rr - r0 + cc - c0) % 2 == 0)] = p["c"]
    return out


family("checker_fill", "fill the inside of each closed box with a checkerboard starting at its top-left", _checker,
       lambda rng, p, d: boxes(rng, d, p["wall"], lo=4)[0], lambda rng, d: dict(zip(["wall", "c"], colours(rng, 2))),
       split="held-out")


def _rings(g, p):
    rr, cc = np.nonzero(g)
    if len(rr) != 1:
        raise Reject("needs one dot")
    r, c = int(rr[0]), int(cc[0])
    ar, ac = np.indices(g.shape)
    dist = np.maximum(np.abs(ar - r), np.abs(ac - c))
    return np.where(dist % p["period"] == 0, g[r, c], 0).astype(np.uint8)


def _one_dot(rng, p, d):
    h, w = scaled(rng, d, 3, 20), scaled(rng, d, 3, 20)
    g = np.zeros((h, w), np.uint8)
    g[int(rng.integers(h)), int(rng.integers(w))] = colour(rng)
    return g


family("concentric_rings", "grow square rings around the single dot, every k-th distance in its colour", _rings,
       _one_dot, lambda rng, d: {"period": int(rng.integers(2, 4))}, split="held-out")


def _fill_cups(g, p):
    """Background with a wall cell somewhere to its left, to its right and below it becomes a fixed colour."""
    w = g == p["wall"]
    left = np.maximum.accumulate(w, axis=1)
    right = np.maximum.accumulate(w[:, ::-1], axis=1)[:, ::-1]
    below = np.maximum.accumulate(w[::-1], axis=0)[::-1]
    return np.where((g == 0) & left & right & below, p["c"], g).astype(np.uint8)


def _cups(rng, p, d):
    """U-shaped cups of the wall colour (open at the top)."""
    g, bs = boxes(rng, d, p["wall"], lo=3)
    for r, c, h, w in bs:
        g[r, c + 1:c + w - 1] = 0
    return g


family("fill_cups", "fill background that has the wall colour to its left, right and below (water in cups)", _fill_cups, _cups,
       lambda rng, d: dict(zip(["wall", "c"], colours(rng, 2))))

# other values each parameter could take; demonstrations must rule them out
variants("concentric_rings", period=[2, 3])
