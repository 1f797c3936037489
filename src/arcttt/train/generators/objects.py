"""Object families: gravity, sliding, moving, hollowing, halos, cropping, recolouring by property, sorting."""

from __future__ import annotations

import numpy as np

from ...dsl import grid_ops as ops
from .core import (
    Reject,
    colour,
    colours,
    family,
    objects,
    random_objects,
    random_shape,
    scaled,
    scatter_objects,
    shift,
    unique_argmax,
    variants,
)

DIRS = ["down", "left", "up", "right"]  # index = rot90 turns that bring the direction to "down"


def in_direction(fn, g, p):
    """Apply a rule written for 'down' in direction p['dir'] by rotating there and back."""
    k = DIRS.index(p["dir"])
    return np.rot90(fn(np.rot90(g, k), p), -k).copy()


def dir_params(rng, d):
    return {"dir": str(rng.choice(DIRS))}


def polyomino(rng, n: int) -> np.ndarray:
    """A random 4-connected shape of exactly n cells, cropped to its box."""
    cells = {(0, 0)}
    while len(cells) < n:
        r, c = list(cells)[int(rng.integers(len(cells)))]
        dr, dc = ((0, 1), (1, 0), (0, -1), (-1, 0))[int(rng.integers(4))]
        cells.add((r + dr, c + dc))
    rr = np.array([c[0] for c in cells])
    cc = np.array([c[1] for c in cells])
    m = np.zeros((rr.max() - rr.min() + 1, cc.max() - cc.min() + 1), bool)
    m[rr - rr.min(), cc - cc.min()] = True
    return m


def scene(rng, d, n_lo=1, n_hi=6, side_hi=4, cols=None, fill=0.65, gap=1, size_lo=5, size_hi=22, min_side=1):
    """A grid of scattered objects (colours random unless given)."""
    h, w = scaled(rng, d, size_lo, size_hi), scaled(rng, d, size_lo, size_hi)
    n = scaled(rng, d, n_lo, n_hi)
    cs = cols if cols is not None else [colour(rng) for _ in range(n)]
    if len(cs) < n:
        cs = [cs[i % len(cs)] for i in range(n)]
    return random_objects(rng, d, h, w, n, cs[:n], min_side, side_hi, fill, gap=gap)[0]


# ---- gravity and motion


def _fall(g, p):
    return ops.fall(g)


family("gravity", "let every coloured cell fall to one side of the grid", lambda g, p: in_direction(_fall, g, p),
       lambda rng, p, d: scene(rng, d, 2, 8, fill=0.5), dir_params)


def _slide(g, p):
    objs = sorted(objects(g, by_colour=False), key=lambda o: -(o.r + o.shape[0]))
    out = np.zeros_like(g)
    h = g.shape[0]
    for o in objs:
        rr, cc = np.nonzero(o.mask)
        rr, cc = rr + o.r, cc + o.c
        vals = g[rr, cc]
        while rr.max() + 1 < h and not out[rr + 1, cc].any():
            rr = rr + 1
        out[rr, cc] = vals
    return out


family("slide_objects", "slide each object rigidly to a wall until it hits the wall or another object",
       lambda g, p: in_direction(_slide, g, p), lambda rng, p, d: scene(rng, d, 1, 5, side_hi=3), dir_params)


def _move_colour(g, p):
    m = g == p["c"]
    moved = shift(m, p["dr"], p["dc"], False)
    out = np.where(m, 0, g).astype(np.uint8)
    if moved.sum() != m.sum() or (out[moved] != 0).any():
        raise Reject("moved object leaves the grid or overlaps")
    out[moved] = p["c"]
    return out


def _move_params(rng, d):
    dr, dc = 0, 0
    while (dr, dc) == (0, 0):
        dr, dc = (int(v) for v in rng.integers(-3, 4, size=2))
    return {"c": colour(rng), "dr": dr, "dc": dc}


family("move_colour", "move the objects of one colour by a fixed vector; other objects stay", _move_colour,
       lambda rng, p, d: scene(rng, d, 2, 5, side_hi=3, cols=[p["c"]] + colours(rng, 2, exclude=(0, p["c"]))),
       _move_params)


# ---- shape edits


def _hollow(g, p):
    pad = np.pad(g, 1)
    inner = (g != 0) & (pad[:-2, 1:-1] == g) & (pad[2:, 1:-1] == g) & (pad[1:-1, :-2] == g) & (pad[1:-1, 2:] == g)
    return np.where(inner, p["c"], g).astype(np.uint8)


def _rects(rng, d, lo=3, hi=7, n_hi=4, fill=1.0, cols=None):
    h, w = scaled(rng, d, 6, 24), scaled(rng, d, 6, 24)
    n = scaled(rng, d, 1, n_hi)
    shapes = [random_shape(rng, int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1)), fill) for _ in range(n)]
    return scatter_objects(rng, h, w, shapes, cols or [colour(rng) for _ in range(n)])[0]


family("hollow_objects", "hollow out solid objects, leaving their outlines (interior gets a fixed colour or background)",
       _hollow, lambda rng, p, d: _rects(rng, d, fill=float(rng.choice([1.0, 0.85]))),
       lambda rng, d: {"c": int(rng.choice([0, 0, colour(rng)]))})


def _dilate8(m):
    p = np.pad(m, 1)
    out = m.copy()
    for dr in range(3):
        for dc in range(3):
            out |= p[dr:dr + m.shape[0], dc:dc + m.shape[1]]
    return out


def _halo(g, p):
    ring = _dilate8(g != 0) & (g == 0)
    return np.where(ring, p["c"], g).astype(np.uint8)


family("halo", "draw a ring of a fixed colour around every object", _halo,
       lambda rng, p, d: scene(rng, d, 1, 5, cols=colours(rng, 2, exclude=(0, p["c"])), gap=2),
       lambda rng, d: {"c": colour(rng)})


def _bbox_fill(g, p):
    out = g.copy()
    for o in objects(g, by_colour=False):
        box = o.crop(out)
        box[box == 0] = p["c"]
    return out


family("fill_bounding_box", "fill the background inside each object's bounding box with a fixed colour", _bbox_fill,
       lambda rng, p, d: scene(rng, d, 1, 5, side_hi=5, fill=0.45, cols=colours(rng, 2, exclude=(0, p["c"]))),
       lambda rng, d: {"c": colour(rng)})


def _denoise(g, p):
    lonely = (g != 0) & ~_dilate8_excl(g != 0)
    return np.where(lonely, 0, g).astype(np.uint8)


def _dilate8_excl(m):
    """Cells with at least one set 8-neighbour (not counting themselves)."""
    p = np.pad(m, 1)
    out = np.zeros_like(m)
    for dr in range(3):
        for dc in range(3):
            if (dr, dc) != (1, 1):
                out |= p[dr:dr + m.shape[0], dc:dc + m.shape[1]]
    return out


def _noisy_scene(rng, p, d):
    h, w = scaled(rng, d, 6, 24), scaled(rng, d, 6, 24)
    n = scaled(rng, d, 1, 4)
    shapes = [random_shape(rng, int(rng.integers(2, 6)), int(rng.integers(2, 6)), 0.7) for _ in range(n)]
    cs = [colour(rng) for _ in range(n)]
    g, _ = scatter_objects(rng, h, w, shapes, cs)
    occ = g != 0
    k = scaled(rng, d, 1, 12)
    dots = [np.ones((1, 1), bool)] * k
    try:
        scatter_objects(rng, h, w, dots, [int(rng.choice(cs)) for _ in range(k)], grid=g, occupied=occ)
    except Reject:
        pass
    return g


family("remove_noise_pixels", "delete isolated single pixels, keep the objects", _denoise, _noisy_scene)


# ---- picking one object


def _pick(g, key):
    objs = objects(g, by_colour=False)
    if len(objs) < 2:
        raise Reject("needs several objects")
    return objs[unique_argmax(np.array([key(o, objs) for o in objs]))]


def _largest(o, objs):
    return o.size


def _smallest(o, objs):
    return -o.size


def _odd_colour(o, objs):
    return -sum(x.colour == o.colour for x in objs)


family("crop_largest", "crop to the largest object", lambda g, p: _pick(g, _largest).crop(g),
       lambda rng, p, d: scene(rng, d, 2, 6, side_hi=5))
family("crop_smallest", "crop to the smallest object", lambda g, p: _pick(g, _smallest).crop(g),
       lambda rng, p, d: scene(rng, d, 2, 6, side_hi=5))
family("crop_odd_colour", "crop to the one object whose colour differs from all the others",
       lambda g, p: _pick(g, _odd_colour).crop(g),
       lambda rng, p, d: scene(rng, d, 3, 6, side_hi=5, cols=(c := colours(rng, 2))[:1] + [c[1]] * 6))


def _keep_largest(g, p):
    o = _pick(g, _largest)
    out = np.zeros_like(g)
    o.crop(out)[o.mask] = o.crop(g)[o.mask]
    return out


family("keep_largest", "erase every object except the largest", _keep_largest,
       lambda rng, p, d: scene(rng, d, 2, 6, side_hi=5))


def _recolour_largest(g, p):
    o = _pick(g, _largest)
    out = g.copy()
    o.crop(out)[o.mask] = p["c"]
    return out


family("recolour_largest", "paint the largest object a fixed colour", _recolour_largest,
       lambda rng, p, d: scene(rng, d, 2, 6, side_hi=5, cols=[colour(rng, exclude=(0, p["c"]))]),
       lambda rng, d: {"c": colour(rng)})


# ---- recolouring by property


def _by_size(g, p):
    out = g.copy()
    for o in objects(g, by_colour=False):
        c = p["sizes"].get(str(o.size))
        if c is None:
            raise Reject("size without a colour")
        o.crop(out)[o.mask] = c
    return out


def _by_size_input(rng, p, d):
    h, w = scaled(rng, d, 5, 20), scaled(rng, d, 5, 20)
    sizes = [int(s) for s in p["sizes"]]
    n = scaled(rng, d, 2, 7)
    shapes = [polyomino(rng, int(rng.choice(sizes))) for _ in range(n)]
    return scatter_objects(rng, h, w, shapes, [p["grey"]] * n)[0]


def _sizes_seen(train, test, p):
    def sizes(pairs):
        return {o.size for q in pairs for o in objects(q.input, by_colour=False)}
    return sizes(test) <= sizes(train)


def _by_size_params(rng, d):
    k = scaled(rng, d, 2, 4)
    grey = colour(rng)
    return {"grey": grey, "sizes": {str(s + 1): c for s, c in enumerate(colours(rng, k, exclude=(0, grey)))}}


family("recolour_by_size", "recolour each object by its cell count (size 1, 2, 3... each has its colour)",
       _by_size, _by_size_input, _by_size_params, check=_sizes_seen)


def _by_rect(g, p):
    out = g.copy()
    for o in objects(g, by_colour=False):
        o.crop(out)[o.mask] = p["yes"] if o.mask.all() else p["no"]
    return out


family("recolour_rectangles", "colour solid rectangles one way and all other shapes another", _by_rect,
       lambda rng, p, d: _rects(rng, d, 2, 5, 6, float(rng.choice([1.0, 0.7])), cols=[p["grey"]] * 6),
       lambda rng, d: dict(zip(["grey", "yes", "no"], colours(rng, 3))))


def _by_border(g, p):
    out = g.copy()
    H, W = g.shape
    for o in objects(g, by_colour=False):
        h, w = o.shape
        if o.r == 0 or o.c == 0 or o.r + h == H or o.c + w == W:
            o.crop(out)[o.mask] = p["c"]
    return out


family("recolour_edge_objects", "recolour the objects that touch the grid's edge", _by_border,
       lambda rng, p, d: scene(rng, d, 3, 8, side_hi=3, size_lo=4, size_hi=14,
                               cols=[colour(rng, exclude=(0, p["c"]))]),
       lambda rng, d: {"c": colour(rng)})


# ---- sorting (held-out)


def _sort_bars(g, p):
    cols = np.flatnonzero((g != 0).any(axis=0))
    heights = (g[:, cols] != 0).sum(axis=0)
    order = np.argsort(heights, kind="stable")
    out = np.zeros_like(g)
    out[:, cols] = g[:, cols[order]]
    return out


def _bars_input(rng, p, d):
    n = scaled(rng, d, 2, 9)
    h = scaled(rng, d, n, 16)
    heights = rng.choice(np.arange(1, h + 1), size=n, replace=False)
    g = np.zeros((h, 2 * n - 1), np.uint8)
    cs = colours(rng, scaled(rng, d, 1, 3))
    for i, k in enumerate(heights):
        g[h - k:, 2 * i] = rng.choice(cs)
    return g


family("sort_bars", "reorder the standing bars from shortest to tallest, left to right", _sort_bars, _bars_input,
       split="held-out")

# other values each parameter could take; demonstrations must rule them out
variants("gravity", dir=DIRS)
variants("slide_objects", dir=DIRS)
variants("move_colour", dr=list(range(-3, 4)), dc=list(range(-3, 4)))
