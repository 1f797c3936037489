"""Learned last steps that treat each row (or column) as one unit: every line filled with the colour
that one of its features decides, and a pattern continued, line after line, to the outputs' size.

As in the other learners, the tables come from the demonstrations alone, and a table must cover the
feature values of the test inputs' lines.
"""

from __future__ import annotations

import numpy as np

from ..dsl.reject import Reject
from .finish import Finish, same_shapes
from .program import primitive

LINE_FEATURES = ("uniform", "majority", "first_cell")
"""What decides a line's colour: whether all its cells are alike, its most common colour (the
background counts), or the position of its first non-background cell (-1 for an empty line)."""


def line_feature(line: np.ndarray, feature: str) -> object:
    if feature == "uniform":
        return bool((line == line[0]).all())
    if feature == "majority":
        counts = np.bincount(line, minlength=10)
        top = np.flatnonzero(counts == counts.max())
        return int(top[0]) if len(top) == 1 else None
    cells = np.flatnonzero(line)
    return int(cells[0]) if len(cells) else -1


@primitive("fill_lines")
def fill_lines(g: np.ndarray, axis: str, feature: str, table: dict) -> np.ndarray:
    """Each row ('rows') or column ('columns') filled with the colour `table` gives its feature."""
    a = g if axis == "rows" else g.T
    out = np.empty_like(a)
    for i, line in enumerate(a):
        out[i] = table[line_feature(line, feature)]
    return out if axis == "rows" else out.T.copy()


def learn_fill_lines(outs, targets) -> Finish | None:
    """The first axis and feature whose table from a line's feature to its (single) output colour
    reproduces every demonstration."""
    if not same_shapes(outs, targets):
        return None
    for axis in ("rows", "columns"):
        lines = [(o if axis == "rows" else o.T, t if axis == "rows" else t.T) for o, t in zip(outs, targets)]
        if not all((t == t[:, :1]).all() for _, t in lines):
            continue
        for feature in LINE_FEATURES:
            table: dict = {}
            fits = True
            for o, t in lines:
                for line, colour in zip(o, t[:, 0].tolist()):
                    key = line_feature(line, feature)
                    if key is None or table.setdefault(key, colour) != colour:
                        fits = False
                        break
                if not fits:
                    break
            if fits and len(set(table.values())) >= 2:
                seen = set(table)
                return Finish("fill_lines", (axis, feature, table), 2,
                              lambda g, axis=axis, feature=feature, seen=seen: all(
                                  line_feature(line, feature) in seen for line in (g if axis == "rows" else g.T)))
    return None


@primitive("continue_lines")
def continue_lines(g: np.ndarray, axis: str, size: tuple) -> np.ndarray:
    """The grid's rows ('rows': downwards) or columns ('columns': rightwards) continued to `size` lines:
    ('times', k) k times as many, ('lines', n) n lines. The continuation repeats the shortest period p
    of the lines, each period shifted sideways by the drift the grid shows (background fills in)."""
    a = g if axis == "rows" else g.T
    n = a.shape[0]
    total = int(round(n * size[1])) if size[0] == "times" else size[1]
    if total <= n:
        raise Reject("nothing to continue")
    period, drift = _period(a)
    out = np.zeros((total, a.shape[1]), a.dtype)
    out[:n] = a
    for r in range(n, total):
        out[r] = _shifted(out[r - period], drift)
    return out if axis == "rows" else out.T.copy()


def _shifted(line: np.ndarray, d: int) -> np.ndarray:
    out = np.zeros_like(line)
    if d >= 0:
        out[d:] = line[:len(line) - d]
    else:
        out[:d] = line[-d:]
    return out


MAX_DRIFT = 3


def _period(a: np.ndarray) -> tuple[int, int]:
    """The shortest period p (at most half the lines) and a drift d with line r + p == line r shifted by d,
    where the shifted line keeps every non-background cell."""
    n = a.shape[0]
    for p in range(1, n // 2 + 1):
        for d in sorted(range(-MAX_DRIFT, MAX_DRIFT + 1), key=abs):
            if all(np.array_equal(a[r + p], _shifted(a[r], d)) and np.count_nonzero(_shifted(a[r], d)) ==
                   np.count_nonzero(a[r]) for r in range(n - p)):
                return p, d
    raise Reject("no period")


def learn_continue_lines(outs, targets) -> Finish | None:
    """Outputs that continue the grid along one axis, to a fixed number of lines or a fixed multiple."""
    for axis in ("rows", "columns"):
        k = 0 if axis == "rows" else 1
        if any(o.shape[1 - k] != t.shape[1 - k] or t.shape[k] <= o.shape[k] for o, t in zip(outs, targets)):
            continue
        sizes = []
        if len({t.shape[k] for t in targets}) == 1:
            sizes.append(("lines", targets[0].shape[k]))
        ratios = {t.shape[k] / o.shape[k] for o, t in zip(outs, targets)}
        if len(ratios) == 1:
            sizes.append(("times", ratios.pop()))
        for size in sizes:
            try:
                if all(np.array_equal(continue_lines(o, axis, size), t) for o, t in zip(outs, targets)):
                    return Finish("continue_lines", (axis, size), 2)
            except Reject:
                continue
    return None
