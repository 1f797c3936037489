"""Pattern families: stamping a pattern at markers, copying an in-grid template, periodic denoising and
continuation, shadows, flipping objects in place."""

from __future__ import annotations

import numpy as np

from .core import Reject, colour, colours, family, objects, place, scaled, shift, variants
from .objects import scene


def _stamp(g, p):
    """Every marker pixel becomes the task's hidden pattern, centred on it."""
    t = np.array(p["template"], np.uint8)
    th, tw = t.shape
    out = g.copy()
    for r, c in zip(*np.nonzero(g == p["m"])):
        r0, c0 = r - th // 2, c - tw // 2
        if r0 < 0 or c0 < 0 or r0 + th > g.shape[0] or c0 + tw > g.shape[1]:
            raise Reject("stamp leaves the grid")
        box = out[r0:r0 + th, c0:c0 + tw]
        box[t != 0] = t[t != 0]
    return out


def _stamp_params(rng, d):
    m = colour(rng)
    t = rng.choice(colours(rng, scaled(rng, d, 1, 3), exclude=(0, m)) + [0], size=(3, 3)).astype(np.uint8)
    t[1, 1] = m
    t[rng.random((3, 3)) < 0.3] = 0
    if (t != 0).sum() < 2:
        t[0, 1] = colour(rng, exclude=(0, m))
    return {"m": m, "template": t}


def _markers(rng, p, d, box=(3, 3), anchor=(1, 1)):
    h, w = scaled(rng, d, 5, 22), scaled(rng, d, 5, 22)
    g = np.zeros((h, w), np.uint8)
    occ = np.zeros((h, w), bool)
    n = 0
    for _ in range(scaled(rng, d, 1, 5)):
        pos = place(rng, occ, box, 0)
        if pos:
            g[pos[0] + anchor[0], pos[1] + anchor[1]] = p["m"]
            n += 1
    if not n:
        raise Reject("no marker fits")
    return g, occ


family("stamp_pattern", "replace each marker pixel by the same small pattern centred on it", _stamp,
       lambda rng, p, d: _markers(rng, p, d)[0], _stamp_params)


def _copy_template(g, p):
    """The one multi-cell object is a template containing one marker-coloured cell; copy it onto every
    lone marker pixel so that its marker cell lands on the pixel."""
    objs = objects(g, by_colour=False)
    big = [o for o in objs if o.size > 1]
    if len(big) != 1:
        raise Reject("needs exactly one template")
    t = big[0]
    tg = t.crop(g)
    ar, ac = np.nonzero(tg == p["m"])
    if len(ar) != 1:
        raise Reject("template needs one marker cell")
    out = g.copy()
    th, tw = tg.shape
    for o in objs:
        if o.size == 1 and o.colour == p["m"]:
            r0, c0 = o.r - ar[0], o.c - ac[0]
            if r0 < 0 or c0 < 0 or r0 + th > g.shape[0] or c0 + tw > g.shape[1]:
                raise Reject("copy leaves the grid")
            out[r0:r0 + th, c0:c0 + tw] = tg
    return out


def _template_input(rng, p, d):
    th, tw = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    t = rng.choice(colours(rng, scaled(rng, d, 1, 3), exclude=(0, p["m"])), size=(th, tw)).astype(np.uint8)
    ar, ac = int(rng.integers(th)), int(rng.integers(tw))
    t[ar, ac] = p["m"]
    g, occ = _markers(rng, p, d, (th, tw), (ar, ac))
    pos = place(rng, occ, (th, tw), 1)
    if pos is None:
        raise Reject("template does not fit")
    g[pos[0]:pos[0] + th, pos[1]:pos[1] + tw] = t
    return g


family("copy_template", "copy the multi-coloured template onto every lone marker pixel, aligned by its marker cell",
       _copy_template, _template_input, lambda rng, d: {"m": colour(rng)}, split="held-out")


def _periodic(rng, d, ph, pw, exclude):
    h, w = scaled(rng, d, max(4, 2 * ph), 24), scaled(rng, d, max(4, 2 * pw), 24)
    tile = rng.choice(colours(rng, scaled(rng, d, 2, 4), exclude=exclude), size=(ph, pw)).astype(np.uint8)
    return np.tile(tile, (h // ph + 1, w // pw + 1))[:h, :w]


def _restore(g, p, hole):
    """Fill `hole` cells from any visible cell of the same (row mod ph, col mod pw) class."""
    ph, pw = p["ph"], p["pw"]
    tile = np.zeros((ph, pw), np.int16) - 1
    for i in range(ph):
        for j in range(pw):
            vals = g[i::ph, j::pw][~hole[i::ph, j::pw]]
            if len(vals) == 0 or (vals != vals[0]).any():
                raise Reject("class unseen or inconsistent")
            tile[i, j] = vals[0]
    return np.tile(tile, (g.shape[0] // ph + 1, g.shape[1] // pw + 1))[:g.shape[0], :g.shape[1]].astype(np.uint8)


def _denoise_input(rng, p, d):
    g = _periodic(rng, d, p["ph"], p["pw"], exclude=(p["noise"],))
    g[rng.random(g.shape) < 0.05 + 0.15 * d] = p["noise"]
    return g


family("denoise_periodic", "repair a periodic tiling by removing the cells of the noise colour", 
       lambda g, p: _restore(g, p, g == p["noise"]), _denoise_input,
       lambda rng, d: {"ph": scaled(rng, d, 1, 4), "pw": scaled(rng, d, 2, 4), "noise": int(rng.choice([0, colour(rng)]))})


def _continue_input(rng, p, d):
    g = _periodic(rng, d, p["ph"], p["pw"], exclude=(0,))
    h, w = g.shape
    if rng.random() < 0.5:
        g[int(rng.integers(p["ph"] + 1, h)):, :] = 0
    else:
        g[:, int(rng.integers(p["pw"] + 1, w)):] = 0
    return g


family("continue_pattern", "continue the periodic pattern into the empty part of the grid",
       lambda g, p: _restore(g, p, g == 0), _continue_input,
       lambda rng, d: {"ph": scaled(rng, d, 1, 4), "pw": scaled(rng, d, 1, 4)}, split="held-out")


def _shadow(g, p):
    s = shift(g != 0, p["dr"], p["dc"], False) & (g == 0)
    return np.where(s, p["c"], g).astype(np.uint8)


family("drop_shadow", "give every object a shadow of a fixed colour offset by a fixed vector", _shadow,
       lambda rng, p, d: scene(rng, d, 1, 5, cols=colours(rng, 2, exclude=(0, p["c"])), gap=2),
       lambda rng, d: {"c": colour(rng), "dr": int(rng.choice([-1, 1])), "dc": int(rng.choice([-1, 0, 1]))})


def _flip_objects(g, p):
    out = g.copy()
    for o in objects(g, by_colour=False):
        box = o.crop(out)
        box[:] = box[:, ::-1] if p["axis"] == "h" else box[::-1]
    return out


family("flip_objects", "mirror every object inside its own bounding box", _flip_objects,
       lambda rng, p, d: scene(rng, d, 1, 5, side_hi=5, cols=None), lambda rng, d: {"axis": str(rng.choice(["h", "v"]))})

# other values each parameter could take; demonstrations must rule them out
variants("flip_objects", axis=["h", "v"])
variants("drop_shadow", dr=[-1, 1], dc=[-1, 0, 1])
variants("denoise_periodic", ph=[1, 2, 3, 4], pw=[1, 2, 3, 4])
variants("continue_pattern", ph=[1, 2, 3, 4], pw=[1, 2, 3, 4])
