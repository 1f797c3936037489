"""Grid analysis shared by the families: shifting, connected components, objects, reachability, counts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

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


_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
_BLOCK = np.ones((3, 3), bool)


def label(grid: np.ndarray, mask: np.ndarray | None = None, by_colour: bool = True, diag: bool = False):
    """Connected components of `mask` (default: non-zero cells), 4- or 8-connected, of one colour each or
    of any colours; returns (labels with -1 outside, count), components numbered in the reading order of
    their first cell."""
    if mask is None:
        mask = grid != 0
    structure = _BLOCK if diag else _CROSS
    lab = np.zeros(grid.shape, np.int64)
    n = 0
    for part in ([mask & (grid == v) for v in np.unique(grid[mask])] if by_colour else [mask]):
        part_lab, k = ndimage.label(part, structure)
        lab[part] = part_lab[part] + n
        n += k
    if n == 0:
        return np.full(grid.shape, -1, np.int32), 0
    first = ndimage.minimum(np.arange(grid.size).reshape(grid.shape), lab, index=np.arange(1, n + 1))
    order = np.empty(n + 1, np.int64)
    order[0] = -1
    order[1 + np.argsort(first, kind="stable")] = np.arange(n)
    return order[lab].astype(np.int32), n


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
    """Objects in reading order of their top-left corner. Their masks are read-only: the same grid
    asks for its objects many times (every step of a search tries it), so they are computed once."""
    return list(_objects(grid.shape, grid.tobytes(), grid.dtype.str, bg, by_colour, diag))


@lru_cache(maxsize=4096)
def _objects(shape, data, dtype, bg, by_colour, diag) -> tuple[Obj, ...]:
    grid = np.frombuffer(data, dtype=dtype).reshape(shape)
    lab, n = label(grid, grid != bg, by_colour, diag)
    out = []
    for k in range(n):
        rr, cc = np.nonzero(lab == k)
        r0, c0 = int(rr.min()), int(cc.min())
        m = np.zeros((int(rr.max()) - r0 + 1, int(cc.max()) - c0 + 1), bool)
        m[rr - r0, cc - c0] = True
        m.flags.writeable = False
        vals = grid[rr, cc]
        out.append(Obj(r0, c0, m, int(np.bincount(vals).argmax()), len(rr)))
    out.sort(key=lambda o: (o.r, o.c))
    return tuple(out)


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


def role_colour(grid: np.ndarray, role: str, bg: int = 0) -> int:
    """The colour that plays a role in this grid: 'most' or 'least' common other than the background.
    A rule whose colour changes from grid to grid (fill with the colour of the one marker cell) names
    its colour by role. Rejects an empty grid, or a tie (the colour would be a guess)."""
    c = counts(grid, bg).astype(float)
    if not c.any():
        raise Reject("no colour but the background")
    if role == "least":
        c = np.where(c > 0, -c, -np.inf)
    return unique_argmax(c)


ROLES = ("most", "least")


def unique_argmax(values: np.ndarray) -> int:
    """Index of the strict maximum; Reject on a tie (the answer would be ambiguous)."""
    i = int(np.argmax(values))
    if (values == values[i]).sum() != 1:
        raise Reject("tie")
    return i


