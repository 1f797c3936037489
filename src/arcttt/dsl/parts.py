"""A grid's parts, split by separator lines or cut into equal pieces, and what is made of them: logical
combinations, overlays, nestings, the odd part, the part with the most or fewest cells or colours, a
summary of the parts, one part by position.

Every function takes a uint8 grid (and plain parameters) and returns a new grid; one that does not
apply raises Reject (as in arcttt.dsl.grid_ops).
"""

from __future__ import annotations

import numpy as np

from .grid_ops import MARK, connect_pairs, overlay
from .reject import Reject


def split_parts(g: np.ndarray, how: str = "lines") -> list[np.ndarray]:
    """The parts between full rows or columns of one colour (the separator), left to right, top to bottom.
    Rejects a grid without separators or with parts of different shapes. `how` (a key of EQUAL_SPLITS)
    cuts the grid into equal pieces without separators instead; 'gaps' splits at empty (background) rows
    and columns, into parts that may differ in shape."""
    if how in ("lines", "gaps"):
        return _split(g, gaps=how == "gaps")
    h, w = g.shape
    if how == "halves":
        if h == w:
            raise Reject("a square grid has no longer side to halve")
        rows, cols = (2, 1) if h > w else (1, 2)
    else:
        rows, cols = EQUAL_SPLITS[how]
    if h % rows or w % cols:
        raise Reject("the grid does not divide evenly")
    ph, pw = h // rows, w // cols
    return [g[i * ph:(i + 1) * ph, j * pw:(j + 1) * pw] for i in range(rows) for j in range(cols)]


EQUAL_SPLITS = {"halves": None, "quarters": (2, 2)}
"""Cuts into equal pieces without separator lines: rows x columns of pieces ('halves': two pieces
across the grid's longer side, side by side or one above the other)."""

PART_SPLITS = ("lines", *EQUAL_SPLITS)


def _split(g: np.ndarray, gaps: bool = False) -> list[np.ndarray]:
    """The parts between separator lines (split_parts), reading order."""
    row_spans, col_spans = _layout(g, gaps)
    return [g[r0:r1, c0:c1] for r0, r1 in row_spans for c0, c1 in col_spans]


def _layout(g: np.ndarray, gaps: bool = False) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The (start, end) rows and columns of the parts between separator lines (see split_parts)."""
    h, w = g.shape
    for c in ([0] if gaps else np.unique(g)):
        rows = [r for r in range(h) if (g[r] == c).all()]
        cols = [k for k in range(w) if (g[:, k] == c).all()]
        if not rows and not cols or len(rows) == h or len(cols) == w:
            continue
        row_spans, col_spans = _spans(rows, h), _spans(cols, w)
        shapes = {(r1 - r0, c1 - c0) for r0, r1 in row_spans for c0, c1 in col_spans}
        if len(row_spans) * len(col_spans) >= 2 and (gaps or len(shapes) == 1):
            return row_spans, col_spans
    raise Reject("no separator lines")


def fill_parts(g: np.ndarray, how: str = "main", bg: int = 0) -> np.ndarray:
    """The grid with each part between separator lines painted whole, the separators kept: every part in
    its most common colour other than the background ('main'); or only the part(s) with the most
    non-background cells painted so, every other part emptied ('most_cells')."""
    if how not in ("main", "most_cells"):
        raise ValueError(f"unknown way to fill parts {how!r}")
    row_spans, col_spans = _layout(g)
    boxes = [(slice(r0, r1), slice(c0, c1)) for r0, r1 in row_spans for c0, c1 in col_spans]
    filled = [int((g[box] != bg).sum()) for box in boxes]
    out = g.copy()
    for box, n in zip(boxes, filled):
        keep = how == "main" or n == max(filled)
        out[box] = _main_colour(g[box], bg) if keep else bg
    return out


def connect_parts(g: np.ndarray, bg: int = 0) -> np.ndarray:
    """The grid's parts as cells of a small grid (parts_summary), same-coloured cells on one row or
    column of it connected (arcttt.dsl.grid_ops.connect_pairs), and the parts between two such cells
    painted whole in their colour."""
    row_spans, col_spans = _layout(g)
    summary = _summary(g, row_spans, col_spans, bg)
    joined = connect_pairs(summary, bg)
    out = g.copy()
    for (i, j) in zip(*np.nonzero(joined != summary)):
        (r0, r1), (c0, c1) = row_spans[i], col_spans[j]
        out[r0:r1, c0:c1] = joined[i, j]
    return out


def _spans(lines: list[int], n: int) -> list[tuple[int, int]]:
    cuts = [-1] + lines + [n]
    return [(a + 1, b) for a, b in zip(cuts, cuts[1:]) if b > a + 1]


LOGIC = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "nor": lambda a, b: ~(a | b),
    "left_only": lambda a, b: a & ~b,
    "right_only": lambda a, b: b & ~a,
}


def combine_parts(g: np.ndarray, op: str, bg: int = 0, split: str = "lines") -> np.ndarray:
    """The first two parts (split_parts by `split`) as masks of non-background cells, combined by a
    logical operation: MARK where it holds, background elsewhere."""
    parts = split_parts(g, split)
    if len(parts) != 2:
        raise Reject("needs two parts")
    a, b = (p != bg for p in parts)
    return np.where(LOGIC[op](a, b), np.uint8(MARK), np.uint8(bg)).astype(np.uint8)


def overlay_parts(g: np.ndarray, bg: int = 0, split: str = "lines", backward: bool = False) -> np.ndarray:
    """All parts (split_parts by `split`) painted over one another, first to last (or last to first)."""
    parts = split_parts(g, split)[::-1 if backward else 1]
    out = parts[0].copy()
    for p in parts[1:]:
        out = overlay(out, p, bg)
    return out


def odd_part(g: np.ndarray, split: str = "lines", by: str = "look") -> np.ndarray:
    """The one part (split_parts by `split`) that differs from all the others: in its cells ('look'), or
    in its most common colour other than the background ('colour')."""
    parts = split_parts(g, split)
    keys = [(p.shape, p.tobytes()) if by == "look" else _main_colour(p) for p in parts]
    odd = [p for p, k in zip(parts, keys) if keys.count(k) == 1]
    if len(odd) != 1 or len(parts) < 3:
        raise Reject("no single odd part")
    return odd[0]


PART_SELECTORS = {
    "most_cells": lambda p: int((p != 0).sum()),
    "fewest_cells": lambda p: -int((p != 0).sum()),
    "most_colours": lambda p: len(np.unique(p[p != 0])),
    "fewest_colours": lambda p: -len(np.unique(p[p != 0])),
}
"""How pick_part scores a part; the single best-scoring part is picked."""


def pick_part(g: np.ndarray, select: str, split: str = "lines") -> np.ndarray:
    """The one part (split_parts by `split`) with the most or fewest non-background cells or colours;
    tied parts must be identical (otherwise the choice would be a guess)."""
    pieces = split_parts(g, split)
    scores = [PART_SELECTORS[select](p) for p in pieces]
    best = [p for p, s in zip(pieces, scores) if s == max(scores)]
    if any(not np.array_equal(p, best[0]) for p in best[1:]):
        raise Reject("parts tie")
    return best[0].copy()


def parts_summary(g: np.ndarray, bg: int = 0, split: str = "lines") -> np.ndarray:
    """One cell per part (split_parts by 'lines' or 'gaps'), in the parts' layout, of the part's most
    common colour other than the background (background for an empty part)."""
    return _summary(g, *_layout(g, gaps=split == "gaps"), bg)


def _summary(g: np.ndarray, row_spans: list, col_spans: list, bg: int) -> np.ndarray:
    """Each part's main colour (_main_colour), in the parts' layout."""
    return np.array([[_main_colour(g[r0:r1, c0:c1], bg) for c0, c1 in col_spans] for r0, r1 in row_spans], np.uint8)


def _main_colour(p: np.ndarray, bg: int = 0) -> int:
    """The most common colour other than the background (the background for an empty part)."""
    counts = np.bincount(p.ravel(), minlength=10)
    counts[bg] = 0
    return int(counts.argmax()) if counts.any() else bg


def take_part(g: np.ndarray, axis: str, n: int, i: int) -> np.ndarray:
    """Part i of the grid cut into n equal parts across ('h': side by side) or down ('v')."""
    size = g.shape[1] if axis == "h" else g.shape[0]
    if size % n:
        raise Reject("does not divide")
    k = size // n
    return (g[:, i * k:(i + 1) * k] if axis == "h" else g[i * k:(i + 1) * k]).copy()


def nest_parts(g: np.ndarray, split: str, mask: str = "first", outer: str = "mask", bg: int = 0) -> np.ndarray:
    """Two parts, one a mask and one a pattern, nested (a k x k mask and pattern make a k^2 x k^2 grid):
    with the mask outside, each masked cell becomes a copy of the pattern and every other cell an empty
    block; with the pattern outside, each pattern cell becomes the mask's shape in that cell's colour.
    The mask is the first part, the second, or ('one_colour') the part of a single colour when the
    other has several."""
    pieces = split_parts(g, split)
    if len(pieces) != 2:
        raise Reject("needs two parts")
    if mask == "one_colour":
        colours = [len(np.unique(p[p != bg])) for p in pieces]
        if sorted(colours)[:1] != [1] or colours[0] == colours[1]:
            raise Reject("no part of a single colour beside one of several")
        first = colours[0] == 1
    else:
        first = mask == "first"
    masking, pattern = pieces if first else pieces[::-1]
    if masking.size * pattern.size > 900:
        raise Reject("too large to nest")
    if outer == "mask":
        return np.kron(masking != bg, pattern).astype(np.uint8)
    return np.kron(pattern, masking != bg).astype(np.uint8)
