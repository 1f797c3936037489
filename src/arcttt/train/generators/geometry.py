"""Geometric families: symmetries, scaling, tiling, cropping, symmetry completion."""

from __future__ import annotations

import numpy as np

from ...dsl import grid_ops as ops
from .core import any_grid, colour, colours, family, random_objects, scaled, variants

# ---- whole-grid symmetries


def _flip(g, p):
    return ops.flip(g, p["axis"])


family("flip", "mirror the grid left-right or top-bottom", _flip, lambda rng, p, d: any_grid(rng, d, 2, 16),
       lambda rng, d: {"axis": str(rng.choice(["h", "v"]))})


def _rotate(g, p):
    return ops.rotate(g, p["k"])


family("rotate", "rotate the grid by 90, 180 or 270 degrees", _rotate, lambda rng, p, d: any_grid(rng, d, 2, 16),
       lambda rng, d: {"k": int(rng.integers(1, 4))})


def _transpose(g, p):
    return ops.transpose(g, p["diag"])


family("transpose", "reflect the grid in its main or anti diagonal", _transpose,
       lambda rng, p, d: any_grid(rng, d, 2, 16), lambda rng, d: {"diag": str(rng.choice(["main", "anti"]))})


# ---- scaling


def _scale_up(g, p):
    return ops.scale_up(g, p["f"])


family("scale_up", "scale the grid up by an integer factor", _scale_up,
       lambda rng, p, d: any_grid(rng, d, 1, 30 // p["f"]),
       lambda rng, d: {"f": scaled(rng, d, 2, 4)})


def _scale_down(g, p):
    return ops.scale_down(g, p["f"])


family("scale_down", "shrink a blocky grid by its integer block factor", _scale_down,
       lambda rng, p, d: _scale_up(any_grid(rng, d, 1, 30 // p["f"]), p), lambda rng, d: {"f": scaled(rng, d, 2, 4)})


def _fractal(g, p):
    return ops.self_similar(g)


family("self_tile", "replace each coloured cell by a copy of the whole grid (fractal)", _fractal,
       lambda rng, p, d: any_grid(rng, d, 2, 5, cols=[colour(rng)], density=0.55), split="held-out")


# ---- tiling and concatenation

def _tile(g, p):
    return ops.tile_2x2(g, p["mode"])


family("tile_2x2", "tile the grid 2x2, with flips (mirror, point-reflect, row-mirror) or plain", _tile,
       lambda rng, p, d: any_grid(rng, d, 2, 15), lambda rng, d: {"mode": str(rng.choice(list(ops.TILINGS_2X2)))})


def _tile_n(g, p):
    return ops.tile(g, p["ry"], p["rx"])


family("tile_repeat", "repeat the grid a fixed number of times across and down", _tile_n,
       lambda rng, p, d: any_grid(rng, d, 2, 30 // max(p["ry"], p["rx"])),
       lambda rng, d: {"ry": (ry := int(rng.integers(1, 4))), "rx": int(rng.integers(2 if ry == 1 else 1, 4))})


def _mirror_concat(g, p):
    return ops.mirror_concat(g, p["side"])


family("mirror_concat", "append the grid's mirror image on one side", _mirror_concat,
       lambda rng, p, d: any_grid(rng, d, 2, 15), lambda rng, d: {"side": str(rng.choice(["right", "left", "below", "above"]))})


def _kaleido(g, p):
    return ops.kaleidoscope(g)


family("kaleidoscope", "surround a square grid with its three rotations into a 4-fold symmetric grid", _kaleido,
       lambda rng, p, d: any_grid(rng, d, 2, 15, h=(n := scaled(rng, d, 2, 15)), w=n), split="held-out")


def _half(g, p):
    return ops.half(g, p["part"])


family("take_half", "keep one half of the grid (left, right, top or bottom)", _half,
       lambda rng, p, d: any_grid(rng, d, 2, 20), lambda rng, d: {"part": str(rng.choice(["left", "right", "top", "bottom"]))})


def _roll(g, p):
    return ops.roll(g, p["dr"], p["dc"])


def _roll_params(rng, d):
    dr, dc = 0, 0
    while dr == 0 and dc == 0:
        dr, dc = (int(v) for v in rng.integers(-2, 3, size=2))
    return {"dr": dr, "dc": dc}


family("roll", "shift the grid by a vector, wrapping around the edges", _roll,
       lambda rng, p, d: any_grid(rng, d, 3, 16), _roll_params)


# ---- cropping


def _crop(g, p):
    return ops.crop_content(g)


def _sparse_objects(rng, p, d):
    h, w = scaled(rng, d, 5, 22), scaled(rng, d, 5, 22)
    n = scaled(rng, d, 1, 4)
    return random_objects(rng, d, h, w, n, [colour(rng) for _ in range(n)], 1, 4)[0]


family("crop_content", "crop to the bounding box of everything that is not background", _crop, _sparse_objects)


# ---- symmetry completion


def _symmetric(rng, d, sym, mask_colour):
    h, w = scaled(rng, d, 2, 8), scaled(rng, d, 2, 8)
    cols = colours(rng, scaled(rng, d, 2, 5), exclude=(mask_colour,))
    q = rng.choice(cols, size=(h, w)).astype(np.uint8)
    if "h" in sym:
        q = np.hstack([q, q[:, ::-1]])
    if "v" in sym:
        q = np.vstack([q, q[::-1]])
    return q


def _sym_complete(g, p):
    return ops.symmetry_complete(g, p["sym"], p["mask"])


def _sym_input(rng, p, d):
    g = _symmetric(rng, d, p["sym"], p["mask"])
    h, w = g.shape
    mh, mw = int(rng.integers(1, max(2, h // 2) + 1)), int(rng.integers(1, max(2, w // 2) + 1))
    r, c = int(rng.integers(0, h - mh + 1)), int(rng.integers(0, w - mw + 1))
    g[r:r + mh, c:c + mw] = p["mask"]
    return g


def _sym_params(rng, d):
    return {"sym": str(rng.choice(["h", "v", "hv"])), "mask": int(rng.choice([0, colour(rng)]))}


family("symmetry_complete", "fill the masked patch of a mirror-symmetric picture from its mirror image",
       _sym_complete, _sym_input, _sym_params)

# other values each parameter could take; demonstrations must rule them out
variants("flip", axis=["h", "v"])
variants("rotate", k=[1, 2, 3])
variants("transpose", diag=["main", "anti"])
variants("tile_2x2", mode=list(ops.TILINGS_2X2))
variants("mirror_concat", side=["right", "left", "below", "above"])
variants("take_half", part=["left", "right", "top", "bottom"])
variants("roll", dr=[-2, -1, 0, 1, 2], dc=[-2, -1, 0, 1, 2])
variants("symmetry_complete", sym=["h", "v", "hv"])
