"""Counting families: objects and colours counted into bars, small grids, rankings and histograms."""

from __future__ import annotations

import numpy as np

from .core import Reject, any_grid, check_outputs_vary, colour, colours, counts, family, objects, scaled
from .objects import scene


def _n_objects(g, p):
    n = sum(o.colour == p["c"] for o in objects(g, by_colour=False)) if p.get("only") else len(objects(g, by_colour=False))
    if not 1 <= n <= 30:
        raise Reject("count out of range")
    return n


def _bar(g, p):
    n = _n_objects(g, p)
    bar = np.full((1, n), p["out"], np.uint8)
    return bar.T if p["vertical"] else bar


family("count_objects_bar", "count the objects and answer with a bar that long", _bar,
       lambda rng, p, d: scene(rng, d, 1, 8, side_hi=3), lambda rng, d: {"out": colour(rng), "vertical": bool(rng.random() < 0.5)},
       check=check_outputs_vary)


def _in_square(g, p):
    n = _n_objects(g, p)
    if n > 9:
        raise Reject("too many")
    out = np.zeros(9, np.uint8)
    out[:n] = p["c"]
    return out.reshape(3, 3)


family("count_colour_in_3x3", "count the objects of one colour (ignoring others) and fill that many cells of a 3x3 grid",
       _in_square,
       lambda rng, p, d: scene(rng, d, 2, 9, side_hi=3, cols=[p["c"], p["c"], colour(rng, exclude=(0, p["c"]))]),
       lambda rng, d: {"c": colour(rng), "only": True}, check=check_outputs_vary)


def _by_frequency(g, p):
    c = counts(g)
    present = np.flatnonzero(c)
    if len(present) < 2 or len(set(c[present])) != len(present):
        raise Reject("ties or too few colours")
    order = present[np.argsort(-c[present])]
    out = np.asarray(order, np.uint8)[None, :]
    return out.T if p["vertical"] else out


family("colours_by_frequency", "list the colours present, most frequent first", _by_frequency,
       lambda rng, p, d: any_grid(rng, d, 3, 16, cols=colours(rng, scaled(rng, d, 2, 5)), density=float(rng.uniform(0.3, 0.9))),
       lambda rng, d: {"vertical": bool(rng.random() < 0.5)}, check=check_outputs_vary)


def _largest_colour(g, p):
    objs = objects(g, by_colour=False)
    sizes = np.array([o.size for o in objs])
    if len(objs) < 2 or (sizes == sizes.max()).sum() != 1:
        raise Reject("tie")
    return np.full((p["s"], p["s"]), objs[int(sizes.argmax())].colour, np.uint8)


family("largest_object_colour", "answer with the colour of the largest object", _largest_colour,
       lambda rng, p, d: scene(rng, d, 2, 6, side_hi=5), lambda rng, d: {"s": int(rng.integers(1, 4))},
       check=check_outputs_vary)


def _histogram(g, p):
    c = counts(g)
    present = np.flatnonzero(c)
    hmax = int(c.max())
    out = np.zeros((hmax, len(present)), np.uint8)
    for i, k in enumerate(present):
        out[hmax - c[k]:, i] = k
    return out


def _hist_input(rng, p, d):
    g = any_grid(rng, d, 3, 10, cols=colours(rng, scaled(rng, d, 1, 5)), density=float(rng.uniform(0.1, 0.4)))
    if not g.any():
        raise Reject("empty")
    return g


family("colour_histogram", "draw a bar chart: one bottom-aligned column per colour, as tall as its cell count",
       _histogram, _hist_input, split="held-out")


def _count_rows(g, p):
    """Each row's coloured cells gathered into a left-aligned bar of the fixed colour."""
    n = (g != 0).sum(axis=1)
    return np.where(np.arange(g.shape[1])[None, :] < n[:, None], p["c"], 0).astype(np.uint8)


family("row_count_bars", "replace each row by a left-aligned bar of a fixed colour, as long as the row's coloured cells",
       _count_rows, lambda rng, p, d: any_grid(rng, d, 2, 16, density=float(rng.uniform(0.2, 0.6))),
       lambda rng, d: {"c": colour(rng)})
