"""Symmetry completed about a centre found in the grid: every non-background cell's images under a group
of symmetries (mirrors, quarter turns, both) painted where the grid has background.

The centre is the middle of the bounding box of all non-background cells ('bbox'), or of the one
smallest colour whose cells are already symmetric under the group on their own, the anchor the
pattern is drawn around ('anchor'). Coordinates are doubled so
that a centre between two cells stays an integer; an image that falls between cells rejects.
"""

from __future__ import annotations

import numpy as np

from .analysis import bbox
from .grid_ops import MARK
from .reject import Reject

_MIRRORS = ((1, 0, 0, -1), (-1, 0, 0, 1), (-1, 0, 0, -1))
_TURNS = ((0, 1, -1, 0), (-1, 0, 0, -1), (0, -1, 1, 0))
_DIAGONALS = ((0, 1, 1, 0), (0, -1, -1, 0))
GROUPS = {"all": _MIRRORS + _TURNS[::2] + _DIAGONALS, "turns": _TURNS, "mirrors": _MIRRORS}
"""Each group as the 2 x 2 integer matrices (a, b, c, d) taking (dy, dx) to (a dy + b dx, c dy + d dx),
identity left out: 'all' the eight symmetries of the square, 'turns' the quarter turns, 'mirrors'
left-right, up-down and the half turn they make together (the largest first: where several fit the demonstrations, the one that says
the most is tried first)."""

CENTRES = ("bbox", "anchor")


def _centre2(g: np.ndarray, centre: str, group: str) -> tuple[int, int]:
    """The centre in doubled coordinates."""
    if centre == "bbox":
        r0, r1, c0, c1 = bbox(g != 0)
        return r0 + r1 - 1, c0 + c1 - 1
    found = []
    for colour in np.unique(g[g != 0]):
        mask = g == colour
        r0, r1, c0, c1 = bbox(mask)
        ys, xs = np.nonzero(mask)
        if mask.sum() < g.astype(bool).sum() and _images(ys, xs, r0 + r1 - 1, c0 + c1 - 1, group, mask) is not None:
            found.append((int(mask.sum()), r0 + r1 - 1, c0 + c1 - 1))
    found.sort()
    if not found or (len(found) > 1 and found[0][0] == found[1][0]):
        raise Reject("no single smallest colour symmetric on its own")
    return found[0][1:]


def _images(ys, xs, cy: int, cx: int, group: str, own: np.ndarray | None = None):
    """Per symmetry of the group, the images of cells (ys, xs) about the doubled centre (cy, cx); None
    if one falls between cells, or (with `own`) outside the cells of `own`."""
    dy, dx = 2 * ys - cy, 2 * xs - cx
    out = []
    for a, b, c, d in GROUPS[group]:
        yy, xx = cy + a * dy + b * dx, cx + c * dy + d * dx
        if (yy % 2).any() or (xx % 2).any():
            return None
        yy, xx = yy // 2, xx // 2
        if own is not None:
            h, w = own.shape
            if ((yy < 0) | (yy >= h) | (xx < 0) | (xx >= w)).any() or not own[yy, xx].all():
                return None
        out.append((yy, xx))
    return out


def complete_symmetry(g: np.ndarray, group: str = "all", centre: str = "bbox", mark: bool = False) -> np.ndarray:
    """The grid with every non-background cell's images under `group` about `centre` painted over
    background (in its own colour, or MARK for a colour map to name); cells that several images reach
    take the first's colour."""
    cy, cx = _centre2(g, centre, group)
    ys, xs = np.nonzero(g)
    images = _images(ys, xs, cy, cx, group)
    if images is None:
        raise Reject("an image falls between cells")
    h, w = g.shape
    out = g.copy()
    for yy, xx in images:
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        for y, x, sy, sx in zip(yy[inside], xx[inside], ys[inside], xs[inside]):
            if out[y, x] == 0:
                out[y, x] = MARK if mark else g[sy, sx]
    return out
