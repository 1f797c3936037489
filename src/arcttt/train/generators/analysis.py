"""Grid analysis shared by the families: shifting, connected components, objects, reachability, counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .reject import Reject

_N4 = ((-1, 0), (1, 0), (0, -1), (0, 1))
_N8 = _N4 + ((-1, -1), (-1, 1), (1, -1), (1, 1))


def shift(a: np.ndarray, dr: int, dc: int, fill) -> np.ndarray:
    """a shifted by (dr, dc): out[r, c] = a[r - dr, c - dc], `fill` where that is outside."""
    h, w = a.shape
    out = np.full_like(a, fill)
    if abs(dr) >= h or abs(dc) >= w:
        return out
    out[max(dr, 0):h + min(dr, 0), max(dc, 0):w + min(dc, 0)] = a[max(-dr, 0):h - max(dr, 0), max(-dc, 0):w - max(dc, 0)]
    return out


def label(grid: np.ndarray, mask: np.ndarray | None = None, by_colour: bool = True, diag: bool = False):
    """Connected components of `mask` (default: non-zero cells); returns (labels with -1 outside, count)."""
    h, w = grid.shape
    if mask is None:
        mask = grid != 0
    big = h * w
    lab = np.where(mask, np.arange(big).reshape(h, w), big)
    nbrs = _N8 if diag else _N4
    same = []
    for dr, dc in nbrs:
        ok = shift(mask, dr, dc, False) & mask
        if by_colour:
            ok &= shift(grid, dr, dc, 255) == grid
        same.append(ok)
    while True:
        new = lab.copy()
        for (dr, dc), ok in zip(nbrs, same):
            np.minimum(new, np.where(ok, shift(lab, dr, dc, big), big), out=new)
        flat = new.ravel()
        new = np.where(mask, flat[np.minimum(new, big - 1)], big)  # pointer jumping
        new = np.where(mask, np.minimum(new, lab), big)
        if np.array_equal(new, lab):
            break
        lab = new
    roots, inv = np.unique(lab[mask], return_inverse=True)
    out = np.full((h, w), -1, np.int32)
    out[mask] = inv
    return out, len(roots)


@dataclass
class Obj:
    r: int
    c: int
    mask: np.ndarray  # bool, its bounding box
    colour: int       # most common colour
    size: int

    @property
    def shape(self):
        return self.mask.shape

    def crop(self, grid):
        h, w = self.mask.shape
        return grid[self.r:self.r + h, self.c:self.c + w]


def objects(grid: np.ndarray, bg: int = 0, by_colour: bool = True, diag: bool = False) -> list[Obj]:
    """Objects in reading order of their top-left corner."""
    lab, n = label(grid, grid != bg, by_colour, diag)
    out = []
    for k in range(n):
        rr, cc = np.nonzero(lab == k)
        r0, c0 = int(rr.min()), int(cc.min())
        m = np.zeros((int(rr.max()) - r0 + 1, int(cc.max()) - c0 + 1), bool)
        m[rr - r0, cc - c0] = True
        vals = grid[rr, cc]
        out.append(Obj(r0, c0, m, int(np.bincount(vals).argmax()), len(rr)))
    out.sort(key=lambda o: (o.r, o.c))
    return out


def bbox(mask: np.ndarray):
    rr, cc = np.nonzero(mask)
    if len(rr) == 0:
        raise Reject("empty mask")
    return int(rr.min()), int(rr.max()) + 1, int(cc.min()), int(cc.max()) + 1


def reachable_from_border(free: np.ndarray) -> np.ndarray:
    """Cells of `free` 4-connected to the grid border through `free` cells."""
    seen = np.zeros_like(free)
    seen[0, :], seen[-1, :], seen[:, 0], seen[:, -1] = free[0, :], free[-1, :], free[:, 0], free[:, -1]
    while True:
        p = np.pad(seen, 1)
        new = (seen | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]) & free
        if np.array_equal(new, seen):
            return seen
        seen = new


def counts(grid: np.ndarray, bg: int | None = 0) -> np.ndarray:
    c = np.bincount(grid.ravel(), minlength=10)
    if bg is not None:
        c[bg] = 0
    return c


def unique_argmax(values: np.ndarray) -> int:
    """Index of the strict maximum; Reject on a tie (the answer would be ambiguous)."""
    i = int(np.argmax(values))
    if (values == values[i]).sum() != 1:
        raise Reject("tie")
    return i


