"""Whole-grid primitives: symmetries, scaling, tiling, halves, cropping, gravity, symmetry completion,
colour filters, lines, periodic patterns (a grid's parts are in arcttt.dsl.parts).

Every function takes a uint8 grid (and plain parameters) and returns a new grid; one that does not
apply raises Reject. The generator families are built on these, and the program search enumerates
them, so a rule that generates training tasks is exactly a rule the search can find.
"""

from __future__ import annotations

import numpy as np

from .analysis import bbox, reachable_from_border, role_colour
from .reject import Reject

MARK = 10
"""A colour outside 0-9 that primitives use for cells they create without knowing their colour (a filled
hole, a drawn ray); the search's final colour map gives it its real colour, or the program fails."""

# ---------------------------------------------------------------- symmetries

def flip(g: np.ndarray, axis: str) -> np.ndarray:
    """Mirror left-right (axis 'h') or top-bottom ('v')."""
    return g[:, ::-1] if axis == "h" else g[::-1, :]


def rotate(g: np.ndarray, k: int) -> np.ndarray:
    """Rotate by k quarter turns counter-clockwise."""
    return np.rot90(g, k)


def transpose(g: np.ndarray, diag: str = "main") -> np.ndarray:
    """Reflect in the main or the anti diagonal."""
    return g.T if diag == "main" else np.rot90(g, 2).T


# ---------------------------------------------------------------- scaling and tiling

def scale_up(g: np.ndarray, f: int) -> np.ndarray:
    """Each cell becomes an f x f block."""
    return np.kron(g, np.ones((f, f), np.uint8))


def scale_down(g: np.ndarray, f: int) -> np.ndarray:
    """Keep one cell of each f x f block (the grid's sides must be multiples of f)."""
    if g.shape[0] % f or g.shape[1] % f:
        raise Reject("not a multiple of the factor")
    return g[::f, ::f]


def tile(g: np.ndarray, ry: int, rx: int) -> np.ndarray:
    """The grid repeated ry times down and rx times across."""
    return np.tile(g, (ry, rx))


TILINGS_2X2 = {
    "repeat": lambda g: [[g, g], [g, g]],
    "mirror": lambda g: [[g, g[:, ::-1]], [g[::-1], g[::-1, ::-1]]],
    "rot": lambda g: [[g, g[::-1, ::-1]], [g[::-1, ::-1], g]],
    "rows": lambda g: [[g, g[:, ::-1]], [g, g[:, ::-1]]],
}


def tile_2x2(g: np.ndarray, mode: str) -> np.ndarray:
    """Four copies in a 2 x 2 block: plain (repeat), mirrored, point-reflected, or row-mirrored."""
    return np.block(TILINGS_2X2[mode](g))


def mirror_concat(g: np.ndarray, side: str) -> np.ndarray:
    """The grid with its mirror image appended on one side (right, left, below, above)."""
    if side == "right":
        return np.hstack([g, g[:, ::-1]])
    if side == "left":
        return np.hstack([g[:, ::-1], g])
    if side == "below":
        return np.vstack([g, g[::-1]])
    return np.vstack([g[::-1], g])


def kaleidoscope(g: np.ndarray) -> np.ndarray:
    """The grid surrounded by its three quarter-turn rotations: a 4-fold symmetric grid."""
    return np.block([[g, np.rot90(g, -1)], [np.rot90(g, 1), np.rot90(g, 2)]])


def half(g: np.ndarray, part: str) -> np.ndarray:
    """One half (left, right, top, bottom); a middle row or column of an odd side is dropped."""
    h, w = g.shape
    out = {"left": g[:, :w // 2], "right": g[:, (w + 1) // 2:], "top": g[:h // 2], "bottom": g[(h + 1) // 2:]}[part]
    if out.size == 0:
        raise Reject("nothing left")
    return out


def roll(g: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """Shift by a vector, wrapping around the edges."""
    return np.roll(g, (dr, dc), axis=(0, 1))


# ---------------------------------------------------------------- cropping and colours

def majority_colour(g: np.ndarray) -> int:
    """The most common colour (the smallest on a tie)."""
    return int(np.bincount(g.ravel(), minlength=10).argmax())


def crop_content(g: np.ndarray, bg: int = 0) -> np.ndarray:
    """The bounding box of every cell that is not the background colour."""
    r0, r1, c0, c1 = bbox(g != bg)
    return g[r0:r1, c0:c1]


def keep_colour(g: np.ndarray, c: int, bg: int = 0) -> np.ndarray:
    """Only the cells of colour c; the rest becomes background."""
    return np.where(g == c, g, np.uint8(bg)).astype(np.uint8)


def remove_colour(g: np.ndarray, c: int, bg: int = 0) -> np.ndarray:
    """The cells of colour c become background."""
    return np.where(g == c, np.uint8(bg), g).astype(np.uint8)


def fill_colour_boxes(g: np.ndarray, bg: int = 0) -> np.ndarray:
    """Each colour's bounding box filled with it, over background (cells two colours' boxes share stay
    background: which colour they take would be a guess)."""
    out = g.copy()
    boxes = {int(c): bbox(g == c) for c in np.unique(g) if c != bg}
    owner = np.zeros(g.shape, np.int16)
    for r0, r1, c0, c1 in boxes.values():
        owner[r0:r1, c0:c1] += 1
    for c, (r0, r1, c0, c1) in boxes.items():
        box = out[r0:r1, c0:c1]
        box[(g[r0:r1, c0:c1] == bg) & (owner[r0:r1, c0:c1] == 1)] = c
    if np.array_equal(out, g):
        raise Reject("no box to fill")
    return out


def symmetry_complete(g: np.ndarray, sym: str, mask: int) -> np.ndarray:
    """Cells of the mask colour filled from their mirror images ('h', 'v' or both: 'hv')."""
    out = g.copy()
    m = g == mask
    if not m.any():
        raise Reject("nothing masked")
    cands = []
    if "h" in sym:
        cands.append(g[:, ::-1])
    if "v" in sym:
        cands.append(g[::-1])
    if sym == "hv":
        cands.append(g[::-1, ::-1])
    for c in cands:
        take = m & (c != mask)
        out[take] = c[take]
        m = m & ~take
    if m.any():
        raise Reject("masked cells have no visible mirror")
    return out


def overlay(under: np.ndarray, over: np.ndarray, bg: int = 0) -> np.ndarray:
    """`over` painted on `under` wherever it is not background (the same shape)."""
    if under.shape != over.shape:
        raise Reject("shapes differ")
    return np.where(over != bg, over, under).astype(np.uint8)


# ---------------------------------------------------------------- gravity and regions

def fall(g: np.ndarray, direction: str = "down", bg: int = 0) -> np.ndarray:
    """Every non-background cell falls as far as it can toward one side (cells stack in their order)."""
    k = {"down": 0, "left": 1, "up": 2, "right": 3}[direction]
    r = np.rot90(g, k)
    out = np.take_along_axis(r, np.argsort(r != bg, axis=0, kind="stable"), axis=0)
    return np.rot90(out, -k).copy()


def fill_enclosed(g: np.ndarray, colour: int = MARK, bg: int = 0) -> np.ndarray:
    """Background cells that cannot reach the border through background become `colour`."""
    free = g == bg
    inside = free & ~reachable_from_border(free)
    if not inside.any():
        raise Reject("nothing enclosed")
    out = g.copy()
    out[inside] = colour
    return out


# ---------------------------------------------------------------- lines

def rays(g: np.ndarray, directions: str, bg: int = 0) -> np.ndarray:
    """From every non-background cell, a line of its colour to the border in each direction of
    `directions` (letters of 'udlr'), over background cells only."""
    out = g.copy()
    steps = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}
    h, w = g.shape
    rr, cc = np.nonzero(g != bg)
    if len(rr) == 0 or len(rr) > 40:
        raise Reject("no cells, or too many to draw from")
    for r, c in zip(rr, cc):
        for d in directions:
            dr, dc = steps[d]
            y, x = r + dr, c + dc
            while 0 <= y < h and 0 <= x < w and g[y, x] == bg:
                if out[y, x] == bg:
                    out[y, x] = g[r, c]
                y, x = y + dr, x + dc
    return out


def connect_pairs(g: np.ndarray, bg: int = 0, diag: bool = False, lines: str = "rows,columns",
                  mark: bool = False) -> np.ndarray:
    """A line between every two cells of the same colour on one row or column (or, with `diag`, on one
    diagonal), over background. `lines` says which lines are drawn and in what order ('rows,columns',
    'columns,rows', 'rows' or 'columns'; where two lines cross, the first drawn stays); with `mark`
    the lines are MARK, a colour a learned colour map then names, rather than the cells' own colour."""
    out = g.copy()  # a grid with no pair to connect stays as it is (a state the search already holds)
    for cells in (_diagonals(g.shape) if diag else _lines(g.shape, lines)):
        line = g[cells]
        for c in np.unique(line[line != bg]):
            idx = np.nonzero(line == c)[0]
            for a, b in zip(idx, idx[1:]):
                if b > a + 1 and (line[a + 1:b] == bg).all():
                    rr, cc = cells[0][a + 1:b], cells[1][a + 1:b]
                    free = out[rr, cc] == bg  # where two lines cross, the first drawn stays
                    out[rr[free], cc[free]] = MARK if mark else c
    return out


CONNECT_LINES = ("rows,columns", "columns,rows", "rows", "columns")


def _lines(shape, which: str = "rows,columns") -> list[tuple[np.ndarray, np.ndarray]]:
    """The (row indices, column indices) of every row and/or every column of a grid, in `which` order."""
    if which not in CONNECT_LINES:
        raise ValueError(f"unknown lines {which!r}")
    h, w = shape
    rows = [(np.full(w, r), np.arange(w)) for r in range(h)]
    columns = [(np.arange(h), np.full(h, c)) for c in range(w)]
    return [cells for kind in which.split(",") for cells in (rows if kind == "rows" else columns)]


def _diagonals(shape) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (row indices, column indices) of every diagonal and anti-diagonal of a grid."""
    h, w = shape
    out = []
    for k in range(-h + 1, w):
        r = np.arange(max(0, -k), min(h, w - k))
        out += [(r, r + k), (r, w - 1 - (r + k))]
    return out


SYMMETRIZE = {
    "h": lambda g: g[:, ::-1],
    "v": lambda g: g[::-1],
    "hv": lambda g: g[::-1, ::-1],
    "diag": lambda g: g.T,
    "rot90": lambda g: np.rot90(g),
}


def symmetrize(g: np.ndarray, how: str, bg: int = 0) -> np.ndarray:
    """The grid painted over with its own mirror image (or quarter turn): background cells take the
    colour their mirror has, so a partly drawn symmetric figure is completed."""
    other = SYMMETRIZE[how](g)
    if other.shape != g.shape:
        raise Reject("not square")
    return overlay(g, other, bg)


def compress(g: np.ndarray) -> np.ndarray:
    """Runs of identical consecutive rows, then of identical consecutive columns, each kept once."""
    keep_r = [0] + [r for r in range(1, g.shape[0]) if not np.array_equal(g[r], g[r - 1])]
    g = g[keep_r]
    keep_c = [0] + [c for c in range(1, g.shape[1]) if not np.array_equal(g[:, c], g[:, c - 1])]
    return g[:, keep_c].copy()


def fill_periodic(g: np.ndarray, mask: int, max_period: int = 12, partial: bool = False) -> np.ndarray:
    """Cells of the mask colour filled from a 2-D periodic pattern: the smallest periods (rows, columns)
    under which every other cell agrees with the cells one period away, else the shortest diagonal
    stripes (a colour per value of (row + column) or (row - column) modulo a period). With `partial`,
    the period runs along the rows (or the columns) only, a position of it that is masked everywhere
    stays masked (each row's pattern continued, empty rows left empty), and no diagonal stripes."""
    m = g == mask
    if not m.any() or m.all():
        raise Reject("nothing masked")
    h, w = g.shape
    periods = sorted((ph * pw, ph, pw) for ph in range(1, min(max_period, h) + 1)
                     for pw in range(1, min(max_period, w) + 1))
    if partial:  # along the rows or along the columns only: each row (column) its own pattern
        periods = [(h * pw, h, pw) for pw in range(1, min(max_period, w) + 1)] + [
            (ph * w, ph, w) for ph in range(1, min(max_period, h) + 1)]
    for area, ph, pw in periods:
        if ph == h and pw == w:
            continue
        tile = np.full((ph, pw), -1, np.int16)
        ok = True
        for r in range(ph):
            for c in range(pw):
                vals = g[r::ph, c::pw][~m[r::ph, c::pw]]
                if partial and len(vals) == 0:
                    tile[r, c] = mask
                    continue
                if len(vals) == 0 or (vals != vals[0]).any():
                    ok = False
                    break
                tile[r, c] = vals[0]
            if not ok:
                break
        if ok:
            full = np.tile(tile, (h // ph + 1, w // pw + 1))[:h, :w]
            return np.where(m, full, g).astype(np.uint8)
    if partial:
        raise Reject("no period explains the unmasked cells")
    rr, cc = np.indices(g.shape)
    for period in range(2, max_period + 1):  # diagonal stripes: the colour depends on (r +- c) mod period
        for phase in ((rr + cc) % period, (rr - cc) % period):
            full = np.zeros_like(g)
            for k in range(period):
                vals = g[(phase == k) & ~m]
                if len(vals) == 0 or (vals != vals[0]).any():
                    break
                full[phase == k] = vals[0]
            else:
                return np.where(m, full, g).astype(np.uint8)
    raise Reject("no period explains the unmasked cells")


def period_tile(g: np.ndarray) -> np.ndarray:
    """The smallest block whose repetition (across and down) makes the grid, when it is smaller than it."""
    h, w = g.shape
    for area, ph, pw in sorted((ph * pw, ph, pw) for ph in range(1, h + 1) for pw in range(1, w + 1)):
        if (ph, pw) == (h, w):
            break
        if h % ph == 0 and w % pw == 0 and np.array_equal(np.tile(g[:ph, :pw], (h // ph, w // pw)), g):
            return g[:ph, :pw].copy()
    raise Reject("not a repetition of a smaller block")


def extend_period(g: np.ndarray, axis: str, times: int = 2) -> np.ndarray:
    """The grid continued `times` as wide ('h') or as tall ('v') by repeating its shortest period along
    that axis (the period need not divide the grid)."""
    a = g if axis == "h" else g.T
    w = a.shape[1]
    period = next((p for p in range(1, w) if np.array_equal(a[:, p:], a[:, :w - p])), None)
    if period is None:
        raise Reject("no period along the axis")
    reps = -(-times * w // period)
    out = np.tile(a[:, :period], (1, reps))[:, :times * w]
    return (out if axis == "h" else out.T).copy()


def restore_masked(g: np.ndarray, mask: int, how: str) -> np.ndarray:
    """What the cells of the mask colour hide, as the block under the mask's bounding box: completed from
    the grid's mirror symmetries ('symmetry': left-right, top-bottom, both, and the diagonal of a square
    grid) or from its 2-D period ('period')."""
    m = g == mask
    if not m.any():
        raise Reject("nothing masked")
    if how == "period":
        full = fill_periodic(g, mask)
    else:
        full = g.copy()
        views = [g[:, ::-1], g[::-1], g[::-1, ::-1]] + ([g.T, np.rot90(g, 2).T] if g.shape[0] == g.shape[1] else [])
        hidden = m.copy()
        for v in views:
            take = hidden & (v != mask)
            full[take] = v[take]
            hidden &= ~take
        if hidden.any():
            raise Reject("masked cells have no visible mirror")
    r0, r1, c0, c1 = bbox(m)
    return full[r0:r1, c0:c1].copy()


def self_similar(g: np.ndarray, mask: int | str | None = None) -> np.ndarray:
    """Each non-background cell replaced by a copy of the whole grid, each background cell by background
    (a grid of k x k cells becomes k^2 x k^2). With `mask` only the cells of that colour, or of that
    role ('most' or 'least' common, arcttt.dsl.analysis.role_colour), become copies."""
    if max(g.shape) > 6:
        raise Reject("too large to nest")
    if mask is None:
        cells = g != 0
    else:
        cells = g == (role_colour(g, mask) if isinstance(mask, str) else mask)
    if not cells.any():
        raise Reject("no cell to nest the grid in")
    return np.kron(cells, g).astype(np.uint8)


def mark_empty_lines(g: np.ndarray, inner: bool = False, bg: int = 0) -> np.ndarray:
    """Every row and column that is all background becomes MARK (with `inner`, judged and painted
    inside the grid's outer frame: its first and last row and column are left out)."""
    out = g.copy()
    inside = slice(1, -1) if inner else slice(None)
    view, seen = out[inside, inside], g[inside, inside]
    view[(seen == bg).all(axis=1), :] = MARK
    view[:, (seen == bg).all(axis=0)] = MARK
    return out
