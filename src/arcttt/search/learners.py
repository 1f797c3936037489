"""The last step of a program, with parameters inferred from the demonstrations instead of enumerated.

Given what a partial program makes of every demonstration input, each learner tries to finish it
into the demonstration outputs: unchanged (exact), with a colour map, with a rule from each cell's
neighbourhood to its new colour (arcttt.search.local_learners), by recolouring whole objects or
background regions by one of their properties (arcttt.search.object_learners), with a patch around
each marker cell, lines through the markers or markers drawn to what attracts them
(arcttt.search.marker_learners), as blocks of the grid's symmetries, as a window at a fixed place, as
the grid's parts overlaid in one order, by a lookup of one property of the grid, or with a constant
answer. A learner returns the finished program's last call, or None.

The rule tables are taken from the demonstrations alone. A table must also cover what it will meet
on the test inputs (every neighbourhood, every property value), or the program is not used: a rule
that would have to guess is not a verified program. Two rules name what an unseen colour does: a
stamp whose demonstrations show colours that paint nothing treats a new colour as one more of those,
and attraction moves every single cell not of an anchor colour (a new colour moves like the others).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..dsl.analysis import objects
from ..dsl.counting import COUNTS
from ..dsl.grid_ops import MARK, overlay
from ..dsl.parts import PART_SPLITS, split_parts
from ..dsl.reject import Reject
from .finish import Finish, same_shapes
from .line_learners import learn_continue_lines, learn_fill_lines
from .local_learners import learn_local_rule
from .marker_learners import learn_attract, learn_lines, learn_stamp
from .object_learners import learn_component_recolour
from .program import primitive

# ---------------------------------------------------------------- the primitives learners produce


@primitive("recolour")
def recolour(g: np.ndarray, mapping: dict) -> np.ndarray:
    """Each colour in `mapping` becomes its value; other colours stay."""
    lut = np.arange(256, dtype=np.uint8)
    for a, b in mapping.items():
        lut[a] = b
    return lut[g]


SYMMETRIES = {
    "identity": lambda g: g, "rot90": lambda g: np.rot90(g, 1), "rot180": lambda g: np.rot90(g, 2),
    "rot270": lambda g: np.rot90(g, 3), "flip_h": lambda g: g[:, ::-1], "flip_v": lambda g: g[::-1],
    "transpose": lambda g: g.T, "antitranspose": lambda g: np.rot90(g, 2).T,
}


@primitive("blocks")
def blocks(g: np.ndarray, layout: tuple) -> np.ndarray:
    """A grid of blocks, each the input under one symmetry (a name of SYMMETRIES) or empty ('blank');
    layout holds one row of names per row of blocks."""
    views = {name: fn(g) for name, fn in SYMMETRIES.items()}
    if any(v.shape != g.shape for name, v in views.items() if any(name in row for row in layout)):
        raise Reject("a quarter turn of a non-square grid does not fit its block")
    return np.block([[views[name] if name != "blank" else np.zeros_like(g) for name in row] for row in layout])


ANCHORS = ("top_left", "top_right", "bottom_left", "bottom_right")


@primitive("window")
def window(g: np.ndarray, anchor: str, dr: int, dc: int, h: int, w: int) -> np.ndarray:
    """The h x w block dr rows and dc columns in from one corner of the grid."""
    r0 = dr if anchor.startswith("top") else g.shape[0] - dr - h
    c0 = dc if anchor.endswith("left") else g.shape[1] - dc - w
    if r0 < 0 or c0 < 0 or r0 + h > g.shape[0] or c0 + w > g.shape[1]:
        raise Reject("the window leaves the grid")
    return g[r0:r0 + h, c0:c0 + w].copy()


@primitive("overlay_order")
def overlay_order(g: np.ndarray, split: str, order: tuple) -> np.ndarray:
    """The grid's parts (arcttt.dsl.parts.split_parts by `split`) painted over one another in `order` (part
    indices, the bottom layer first)."""
    parts = split_parts(g, split)
    if len(parts) != len(order):
        raise Reject("a different number of parts")
    out = parts[order[0]].copy()
    for i in order[1:]:
        out = overlay(out, parts[i])
    return out


GRID_PROPERTIES = {
    "main_colour": lambda g: int(np.bincount(g[g != 0], minlength=10).argmax()) if (g != 0).any() else 0,
    "objects": COUNTS["objects"],
    "objects8": lambda g: len(objects(g, by_colour=False, diag=True)),
    "colours": COUNTS["colours"],
    "cells": COUNTS["cells"],
    "symmetric": lambda g: (bool(np.array_equal(g, g[:, ::-1])), bool(np.array_equal(g, g[::-1]))),
    "mirror_lr": lambda g: bool(np.array_equal(g, g[:, ::-1])),  # coarser than 'symmetric': fewer values to cover
}


@primitive("lookup")
def lookup(g: np.ndarray, prop: str, table: dict) -> np.ndarray:
    """The grid that `table` gives for the input's property (a key of GRID_PROPERTIES)."""
    value = GRID_PROPERTIES[prop](g)
    if value not in table:
        raise Reject("a property value the demonstrations did not show")
    return np.array(table[value], dtype=np.uint8)


@primitive("constant")
def constant(g: np.ndarray, grid: tuple) -> np.ndarray:
    """The same grid whatever the input."""
    return np.array(grid, dtype=np.uint8)


# ---------------------------------------------------------------- learners


def learn_exact(outs, targets) -> Finish | None:
    if same_shapes(outs, targets) and all(np.array_equal(o, t) for o, t in zip(outs, targets)):
        return Finish("", (), 0)
    return None


def learn_colour_map(outs, targets) -> Finish | None:
    if not same_shapes(outs, targets):
        return None
    mapping: dict[int, int] = {}
    for o, t in zip(outs, targets):
        for a, b in zip(o.ravel().tolist(), t.ravel().tolist()):
            if mapping.setdefault(a, b) != b:
                return None
    changes = {a: b for a, b in sorted(mapping.items()) if a != b}
    if not changes:
        return None
    if set(changes) == {MARK}:  # only naming the marked cells' colour: every real colour stays, seen or not
        return Finish("recolour", (changes,), 1)
    seen = set(mapping)
    return Finish("recolour", (changes,), 1, lambda g: set(np.unique(g).tolist()) <= seen)


def learn_blocks(outs, targets) -> Finish | None:
    """Outputs made of a x b blocks of the grid's size, each block always the same symmetry of it."""
    ratios = {(t.shape[0] / o.shape[0], t.shape[1] / o.shape[1]) for o, t in zip(outs, targets)}
    if len(ratios) != 1:
        return None
    a, b = ratios.pop()
    if a != int(a) or b != int(b) or (a, b) == (1, 1) or a * b > 16:
        return None
    a, b = int(a), int(b)
    layout = []
    for i in range(a):
        row = []
        for j in range(b):
            for name in (*SYMMETRIES, "blank"):
                if all(_block_fits(o, t, i, j, name) for o, t in zip(outs, targets)):
                    row.append(name)
                    break
            else:
                return None
        layout.append(tuple(row))
    return Finish("blocks", (tuple(layout),), 2)


def _block_fits(o: np.ndarray, t: np.ndarray, i: int, j: int, name: str) -> bool:
    h, w = o.shape
    block = t[i * h:(i + 1) * h, j * w:(j + 1) * w]
    if name == "blank":
        return not block.any()
    view = SYMMETRIES[name](o)
    return view.shape == block.shape and np.array_equal(view, block)


def learn_window(outs, targets) -> Finish | None:
    """Outputs that are the same-sized block at the same place, counted from one corner, of every state."""
    h, w = targets[0].shape
    if any(t.shape != (h, w) for t in targets) or any(o.shape[0] < h or o.shape[1] < w for o in outs):
        return None
    if all(o.shape == (h, w) for o in outs):
        return None
    first = outs[0]
    views = np.lib.stride_tricks.sliding_window_view(first, (h, w))
    for r0, c0 in zip(*np.nonzero((views == targets[0]).all(axis=(2, 3)))):
        for anchor in ANCHORS:
            dr = int(r0) if anchor.startswith("top") else first.shape[0] - h - int(r0)
            dc = int(c0) if anchor.endswith("left") else first.shape[1] - w - int(c0)
            try:
                if all(np.array_equal(window(o, anchor, dr, dc, h, w), t) for o, t in zip(outs, targets)):
                    return Finish("window", (anchor, dr, dc, h, w), 2)
            except Reject:
                continue
    return None


MAX_ORDERED_PARTS = 4
"""The part-order learner tries every order of up to this many parts (4! = 24)."""


def learn_overlay_order(outs, targets) -> Finish | None:
    """Outputs that are the state's parts painted over one another in one fixed order (the ones other
    than first-to-last and last-to-first: those are search steps)."""
    for split in PART_SPLITS:
        try:
            parts = [split_parts(o, split) for o in outs]
        except Reject:
            continue
        n = len(parts[0])
        if not 3 <= n <= MAX_ORDERED_PARTS or any(len(p) != n or p[0].shape != t.shape for p, t in zip(parts, targets)):
            continue
        for order in itertools.permutations(range(n)):
            if order in (tuple(range(n)), tuple(range(n))[::-1]):
                continue
            if all(np.array_equal(overlay_order(o, split, order), t) for o, t in zip(outs, targets)):
                return Finish("overlay_order", (split, order), 2)
    return None


def learn_lookup(outs, targets) -> Finish | None:
    """Outputs decided by one property of the input (its main colour, how many objects ...)."""
    for prop, fn in GRID_PROPERTIES.items():
        table: dict = {}
        for o, t in zip(outs, targets):
            key, grid = fn(o), tuple(tuple(int(v) for v in row) for row in t)
            if table.setdefault(key, grid) != grid:
                break
        else:  # a value seen twice at least: a table with one entry per demonstration would fit anything
            if len(set(table.values())) >= 2 and len(table) < len(outs):
                seen = set(table)
                return Finish("lookup", (prop, table), 2, lambda g, fn=fn, seen=seen: fn(g) in seen)
    return None


def learn_constant(outs, targets) -> Finish | None:
    first = targets[0]
    if len(targets) >= 2 and all(np.array_equal(t, first) for t in targets[1:]):
        return Finish("constant", (tuple(tuple(int(v) for v in row) for row in first),), 1)
    return None


def finishes(outs: list[np.ndarray], targets: list[np.ndarray], depth: int) -> list[Finish]:
    """Every learner's finish of a partial program with outputs `outs` (the richer learners only on
    short programs: they fit almost anything given enough tries)."""
    found = []
    for learner in (learn_exact, learn_colour_map):
        f = learner(outs, targets)
        if f is not None:
            found.append(f)
    if found and found[0].cost == 0:
        return found[:1]
    if depth <= 1:
        for learner in (learn_blocks, learn_window, learn_overlay_order):
            f = learner(outs, targets)
            if f is not None:
                found.append(f)
        found += learn_component_recolour(outs, targets)
        for learner in (learn_fill_lines, learn_continue_lines, learn_stamp):
            f = learner(outs, targets)
            if f is not None:
                found.append(f)
    if depth == 0:  # a neighbourhood rule or a lookup on top of another step fits demonstrations by accident too easily
        f = learn_lookup(outs, targets)
        if f is not None:
            found.append(f)
        for learner in (learn_lines, learn_attract):
            f = learner(outs, targets)
            if f is not None:
                found.append(f)
        for kind in ("n4", "n8"):
            f = learn_local_rule(outs, targets, kind)
            if f is not None:
                found.append(f)
                break
    return found


__all__ = ["Finish", "finishes", "learn_constant", "Reject"]
