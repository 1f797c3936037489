"""Grid-of-cells families: separator lines split the input into cells that are overlaid, compared or summarised."""

from __future__ import annotations

import numpy as np

from .core import Reject, colour, colours, family, noise, scaled, unique_argmax, variants


def join_cells(cells: list[list[np.ndarray]], sep: int) -> np.ndarray:
    """Cells (equal sizes) laid out in rows, separated by one-cell lines of colour `sep`."""
    rows = []
    for row in cells:
        h = row[0].shape[0]
        line = [row[0]]
        for cell in row[1:]:
            line += [np.full((h, 1), sep, np.uint8), cell]
        rows.append(np.hstack(line))
    out = [rows[0]]
    for r in rows[1:]:
        out += [np.full((1, r.shape[1]), sep, np.uint8), r]
    return np.vstack(out)


def split_cells(g: np.ndarray, sep: int) -> list[list[np.ndarray]]:
    """Inverse of join_cells: cut along full rows/columns of colour `sep`."""
    def runs(full, n):
        cuts = [-1] + [int(i) for i in np.flatnonzero(full)] + [n]
        return [(a + 1, b) for a, b in zip(cuts, cuts[1:]) if b > a + 1]
    rs = runs((g == sep).all(axis=1), g.shape[0])
    cs = runs((g == sep).all(axis=0), g.shape[1])
    if len(rs) * len(cs) < 2:
        raise Reject("no cells")
    return [[g[r0:r1, c0:c1] for c0, c1 in cs] for r0, r1 in rs]


def cell_layout(rng, d, k_hi=4, s_hi=6):
    """(rows of cells, columns of cells, cell height, cell width) that fit in 30x30."""
    ky, kx = scaled(rng, d, 1, k_hi), scaled(rng, d, 1, k_hi)
    if ky * kx < 2:
        kx = 2
    sh = min(scaled(rng, d, 2, s_hi), (31 - ky) // ky)
    sw = min(scaled(rng, d, 2, s_hi), (31 - kx) // kx)
    return ky, kx, sh, sw


# ---- two halves overlaid with a logical operation

_OPS = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "nor": lambda a, b: ~(a | b),
}


def _overlay(op):
    def rule(g, p):
        cells = split_cells(g, p["sep"])
        flat = [c for row in cells for c in row]
        if len(flat) != 2 or flat[0].shape != flat[1].shape:
            raise Reject("needs two equal halves")
        m = _OPS[op](flat[0] != 0, flat[1] != 0)
        return np.where(m, p["c"], 0).astype(np.uint8)
    return rule


def _halves_input(rng, p, d):
    h, w = scaled(rng, d, 2, 14), scaled(rng, d, 2, 14)
    a = noise(rng, h, w, float(rng.uniform(0.3, 0.7)), [p["a"]])
    b = noise(rng, h, w, float(rng.uniform(0.3, 0.7)), [p["b"]])
    return join_cells([[a, b]] if p["side"] else [[a], [b]], p["sep"])


def _halves_params(rng, d):
    a, b, sep, c = colours(rng, 4)
    return {"a": a, "b": b, "sep": sep, "c": c, "side": bool(rng.random() < 0.5)}


for _op, _desc in [("and", "both"), ("or", "either"), ("xor", "exactly one"), ("nor", "neither")]:
    family(f"overlay_{_op}", f"overlay the two halves split by a line; mark cells coloured in {_desc} half",
           _overlay(_op), _halves_input, _halves_params)


def _mask(g, p):
    cells = split_cells(g, p["sep"])
    flat = [c for row in cells for c in row]
    if len(flat) != 2 or flat[0].shape != flat[1].shape:
        raise Reject("needs two equal halves")
    return np.where(flat[0] != 0, flat[1], 0).astype(np.uint8)


def _mask_input(rng, p, d):
    h, w = scaled(rng, d, 2, 14), scaled(rng, d, 2, 14)
    a = noise(rng, h, w, float(rng.uniform(0.3, 0.7)), [p["a"]])
    b = noise(rng, h, w, 1.0, colours(rng, scaled(rng, d, 2, 5), exclude=(p["sep"],)))
    return join_cells([[a, b]] if p["side"] else [[a], [b]], p["sep"])


family("mask_by_template", "keep the picture in the second half only where the first half's template is coloured",
       _mask, _mask_input, _halves_params)


# ---- picking a cell


def _odd_cell(g, p):
    flat = [c for row in split_cells(g, p["sep"]) for c in row]
    keys = [c.tobytes() for c in flat]
    odd = [c for c, k in zip(flat, keys) if keys.count(k) == 1]
    if len(odd) != 1 or len(flat) < 3:
        raise Reject("needs exactly one odd cell")
    return odd[0]


def _odd_input(rng, p, d):
    ky, kx, sh, sw = cell_layout(rng, d)
    if ky * kx < 3:
        kx = 3
        sw = min(sw, (31 - kx) // kx)
    cs = colours(rng, scaled(rng, d, 1, 3), exclude=(0, p["sep"]))
    base = noise(rng, sh, sw, 0.5, cs)
    odd = base.copy()
    i = int(rng.integers(odd.size))
    odd.flat[i] = int(rng.choice([c for c in [0] + cs if c != odd.flat[i]]))
    which = int(rng.integers(ky * kx))
    cells = [[odd if y * kx + x == which else base for x in range(kx)] for y in range(ky)]
    return join_cells(cells, p["sep"])


family("odd_cell_out", "among identical cells split by lines, answer with the one cell that differs", _odd_cell,
       _odd_input, lambda rng, d: {"sep": colour(rng)})


def _densest(g, p):
    flat = [c for row in split_cells(g, p["sep"]) for c in row]
    return flat[unique_argmax(np.array([(c != 0).sum() for c in flat]))]


def _cells_input(rng, p, d, density=None, one_colour=False):
    ky, kx, sh, sw = cell_layout(rng, d)
    cs = colours(rng, scaled(rng, d, 1, 3), exclude=(0, p["sep"]))
    cells = [[noise(rng, sh, sw, float(rng.uniform(0.1, 0.8)) if density is None else density,
                    [int(rng.choice(cs))] if one_colour else cs) for _ in range(kx)] for _ in range(ky)]
    return join_cells(cells, p["sep"])


family("densest_cell", "answer with the cell (between separator lines) that has the most coloured cells", _densest,
       _cells_input, lambda rng, d: {"sep": colour(rng)})


# ---- summarising cells (held-out)


def _summary(g, p):
    cells = split_cells(g, p["sep"])
    out = np.zeros((len(cells), len(cells[0])), np.uint8)
    for y, row in enumerate(cells):
        for x, c in enumerate(row):
            cnt = np.bincount(c.ravel(), minlength=10)
            cnt[0] = 0
            out[y, x] = int(cnt.argmax()) if cnt.sum() >= p["min"] else 0
    return out


family("cell_summary", "shrink each cell to one pixel: its colour if it holds at least k coloured cells, else black",
       _summary, lambda rng, p, d: _cells_input(rng, p, d, one_colour=True),
       lambda rng, d: {"sep": colour(rng), "min": int(rng.integers(1, 4))}, split="held-out")


def _marked_fill(g, p):
    out = g.copy()
    cells = split_cells(out, p["sep"])
    for row in cells:
        for c in row:
            vals = c[c != 0]
            if len(vals) == 1:
                c[:] = vals[0]
    return out


def _marked_input(rng, p, d):
    ky, kx, sh, sw = cell_layout(rng, d)
    cells = [[np.zeros((sh, sw), np.uint8) for _ in range(kx)] for _ in range(ky)]
    for row in cells:
        for c in row:
            if rng.random() < 0.4:
                c[int(rng.integers(sh)), int(rng.integers(sw))] = colour(rng, exclude=(0, p["sep"]))
    return join_cells(cells, p["sep"])


family("fill_marked_cells", "fill every cell that holds a single dot with that dot's colour", _marked_fill,
       _marked_input, lambda rng, d: {"sep": colour(rng)}, split="held-out")

# other values each parameter could take; demonstrations must rule them out
variants("cell_summary", min=[1, 2, 3])
