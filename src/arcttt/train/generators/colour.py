"""Colour families: colour maps, role swaps, keeping/removing colours, majority and minority, legends."""

from __future__ import annotations

import numpy as np

from ...dsl import grid_ops as ops
from .core import (
    Reject,
    any_grid,
    check_test_colours_seen,
    colour,
    colours,
    counts,
    demo_colours,
    family,
    noise,
    scaled,
    unique_argmax,
)


def _lut(mapping: dict) -> np.ndarray:
    lut = np.arange(10, dtype=np.uint8)
    for a, b in mapping.items():
        lut[int(a)] = b
    return lut


def _map(g, p):
    return _lut(p["map"])[g]


def _map_params(rng, d):
    k = scaled(rng, d, 1, 4)
    src = colours(rng, k, exclude=())
    dst = colours(rng, k, exclude=())
    m = {str(a): b for a, b in zip(src, dst) if a != b}
    if not m:
        raise Reject("identity map")
    return {"map": m, "others": colours(rng, scaled(rng, d, 0, 2), exclude=src)}


def _map_input(rng, p, d):
    return any_grid(rng, d, 2, 14, cols=[int(c) for c in p["map"]] + p["others"], density=1.0)


def _map_check(train, test, p):
    return {int(c) for c in p["map"]} <= demo_colours(train) and check_test_colours_seen(train, test, p)


family("colour_map", "recolour every cell by a fixed colour-to-colour map", _map, _map_input, _map_params,
       check=_map_check)


def _role_swap(g, p):
    present = [int(c) for c in np.flatnonzero(counts(g))]
    if len(present) != 2:
        raise Reject("needs exactly two colours")
    a, b = present
    out = g.copy()
    out[g == a], out[g == b] = b, a
    return out


family("swap_two_colours", "swap the two non-background colours, whichever they are", _role_swap,
       lambda rng, p, d: any_grid(rng, d, 2, 16, cols=colours(rng, 2), density=0.6))


def _recolour_fg(g, p):
    return np.where(g != 0, p["c"], 0).astype(np.uint8)


family("recolour_all", "paint every non-background cell one fixed colour", _recolour_fg,
       lambda rng, p, d: any_grid(rng, d, 2, 16, cols=colours(rng, scaled(rng, d, 1, 4))),
       lambda rng, d: {"c": colour(rng)})


def _keep(g, p):
    return ops.keep_colour(g, p["c"])


def _drop(g, p):
    return ops.remove_colour(g, p["c"])


def _with_c_input(rng, p, d):
    return any_grid(rng, d, 3, 16, cols=[p["c"]] + colours(rng, scaled(rng, d, 1, 3), exclude=(0, p["c"])))


family("keep_colour", "erase every colour except one fixed colour", _keep, _with_c_input,
       lambda rng, d: {"c": colour(rng)})
family("remove_colour", "erase one fixed colour (noise) and keep the rest", _drop, _with_c_input,
       lambda rng, d: {"c": colour(rng)})


def _invert(g, p):
    present = np.flatnonzero(counts(g))
    if len(present) != 1:
        raise Reject("needs exactly one colour")
    c = int(present[0])
    return np.where(g == 0, c, 0).astype(np.uint8)


family("invert", "swap background and the single foreground colour", _invert,
       lambda rng, p, d: any_grid(rng, d, 2, 16, cols=[colour(rng)]))


def _size_out(p, c):
    return np.full((p["s"], p["s"]), c, np.uint8)


def _majority(g, p):
    return _size_out(p, unique_argmax(counts(g)))


def _minority(g, p):
    c = counts(g).astype(float)
    c[c == 0] = np.inf
    return _size_out(p, unique_argmax(-c))


def _several_colours(rng, p, d):
    return any_grid(rng, d, 3, 16, cols=colours(rng, scaled(rng, d, 2, 5)), density=float(rng.uniform(0.4, 0.9)))


family("majority_colour", "answer with the most frequent non-background colour", _majority, _several_colours,
       lambda rng, d: {"s": int(rng.integers(1, 4))})
family("minority_colour", "answer with the least frequent non-background colour", _minority, _several_colours,
       lambda rng, d: {"s": int(rng.integers(1, 4))})


def _fill_bg(g, p):
    return np.where(g == 0, p["c"], g).astype(np.uint8)


family("fill_background", "paint the background one fixed colour", _fill_bg,
       lambda rng, p, d: any_grid(rng, d, 2, 16, cols=colours(rng, scaled(rng, d, 1, 3), exclude=(0, p["c"]))),
       lambda rng, d: {"c": colour(rng)})


# ---- colour legends (held-out): the grid itself says how to recolour


def _legend(g, p):
    """Row 0 holds pairs (a, b) at columns 0-1, 3-4, ...; row 1 is a grey line; below, a becomes b."""
    lut = np.arange(10, dtype=np.uint8)
    row = g[0]
    for i in range(0, g.shape[1] - 1, 3):
        if row[i] != 0:
            lut[row[i]] = row[i + 1]
    return lut[g[2:]]


def _legend_input(rng, p, d):
    k = scaled(rng, d, 1, 3)
    src = colours(rng, k, exclude=(0, 5))
    dst = [colour(rng, exclude=(0, 5, a)) for a in src]  # every pair really changes a colour
    w = max(3 * k, scaled(rng, d, 3, 14))
    h = scaled(rng, d, 2, 12)
    body = noise(rng, h, w, float(rng.uniform(0.3, 0.8)), src)
    head = np.zeros((2, w), np.uint8)
    head[1] = 5
    for i, (a, b) in enumerate(zip(src, dst)):
        head[0, 3 * i], head[0, 3 * i + 1] = a, b
    return np.vstack([head, body])


family("colour_legend", "recolour the picture by the colour pairs in the legend row above the grey line",
       _legend, _legend_input, split="held-out")


def _header(g, p):
    """Grey cells below row 0 take the colour of row 0 in their column."""
    out = g.copy()
    body = out[1:]
    body[body == 5] = np.broadcast_to(g[0], body.shape)[body == 5]
    out[0] = 0
    return out


def _header_input(rng, p, d):
    h, w = scaled(rng, d, 3, 16), scaled(rng, d, 2, 16)
    g = noise(rng, h, w, float(rng.uniform(0.3, 0.7)), [5])
    g[0] = rng.choice(colours(rng, scaled(rng, d, 2, 4), exclude=(0, 5)), size=w)
    return g


family("paint_by_header", "colour grey cells with their column's colour from the top row, then clear that row",
       _header, _header_input, split="held-out")
