"""One-dimensional families on 1 x n grids: move, fill, hollow, mirror, recolour segments by length."""

from __future__ import annotations

import numpy as np

from .core import Reject, colour, colours, family, scaled, variants


def segments(row: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of one non-background colour: (start, end exclusive, colour)."""
    r = row.astype(np.int16)
    edges = np.flatnonzero(np.diff(np.concatenate([[-1], r, [-1]])) != 0)
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        if row[a] != 0:
            out.append((int(a), int(b), int(row[a])))
    return out


def line(rng, d, lens: list[int], cols: list[int], n: int | None = None, gap: int = 1) -> np.ndarray:
    """A 1 x n grid with segments of the given lengths and colours at random non-touching places."""
    total = sum(lens) + gap * (len(lens) - 1)
    n = n or max(total + 2, scaled(rng, d, 8, 30))
    if total > n:
        raise Reject("segments do not fit")
    free = n - total
    cuts = np.sort(rng.integers(0, free + 1, size=len(lens)))
    g = np.zeros((1, n), np.uint8)
    pos = 0
    prev = 0
    for i, (L, c) in enumerate(zip(lens, cols)):
        pos += int(cuts[i]) - prev
        prev = int(cuts[i])
        g[0, pos:pos + L] = c
        pos += L + gap
    return g


def _one_segment(rng, p, d, lo=1):
    return line(rng, d, [scaled(rng, d, lo, 8)], [colour(rng)])


def _many(rng, d, lo=1, hi=6, k_hi=4, cols=None):
    k = scaled(rng, d, 1, k_hi)
    return line(rng, d, [int(rng.integers(lo, hi + 1)) for _ in range(k)],
                cols or [colour(rng) for _ in range(k)])


def _shift(g, p):
    k = p["k"]
    if (k > 0 and g[0, -k:].any()) or (k < 0 and g[0, :-k].any()):
        raise Reject("falls off")
    return np.roll(g, k, axis=1)


family("seq_shift", "1-D: move everything a fixed number of cells left or right", _shift,
       lambda rng, p, d: _many(rng, d, k_hi=2), lambda rng, d: {"k": int(rng.choice([-3, -2, -1, 1, 2, 3]))})


def _to_marker(g, p):
    ms = np.flatnonzero(g[0] == p["m"])
    if len(ms) != 1:
        raise Reject("needs one marker")
    x = int(ms[0])
    out = np.zeros_like(g)
    out[0, x] = p["m"]
    for a, b, c in segments(g[0]):
        if c == p["m"]:
            continue
        L = b - a
        if a < x:
            out[0, x - L:x] = c
        else:
            out[0, x + 1:x + 1 + L] = c
    return out


def _marker_input(rng, p, d):
    L = scaled(rng, d, 1, 8)
    c = colour(rng, exclude=(0, p["m"]))
    g = line(rng, d, [L, 1], [c, p["m"]], gap=int(rng.integers(0, 6)))
    return g[:, ::-1].copy() if rng.random() < 0.5 else g


family("seq_move_to_marker", "1-D: slide the segment until it touches the marker pixel", _to_marker, _marker_input,
       lambda rng, d: {"m": colour(rng)})


def _fill_between(g, p):
    out = g.copy()
    row = out[0]
    for c in np.unique(g[g != 0]):
        idx = np.flatnonzero(g[0] == c)
        if len(idx) == 2:
            row[idx[0]:idx[1] + 1] = c
    return out


def _ends_input(rng, p, d):
    k = scaled(rng, d, 1, 3)
    cols = colours(rng, k)
    lens = [int(rng.integers(3, 9)) for _ in range(k)]
    g = line(rng, d, lens, cols)
    for a, b, c in segments(g[0]):
        g[0, a + 1:b - 1] = 0
    return g


family("seq_fill_between", "1-D: fill between each pair of same-coloured pixels", _fill_between, _ends_input)


def _hollow(g, p):
    out = g.copy()
    for a, b, c in segments(g[0]):
        out[0, a + 1:b - 1] = p["c"]
    return out


family("seq_hollow", "1-D: keep only the two end cells of every segment (the middle becomes a fixed colour)", _hollow,
       lambda rng, p, d: _many(rng, d, 3, 8, 3, cols=[colour(rng, exclude=(0, p["c"]))] * 3),
       lambda rng, d: {"c": int(rng.choice([0, 0, colour(rng)]))})

family("seq_reverse", "1-D: mirror the sequence end to end", lambda g, p: g[:, ::-1],
       lambda rng, p, d: _many(rng, d, 1, 5, 4))


def _lengths(g):
    return np.array([b - a for a, b, c in segments(g[0])])


def _longest(g, p):
    segs = segments(g[0])
    L = _lengths(g)
    if len(L) < 2 or (L == L.max()).sum() != 1:
        raise Reject("tie")
    a, b, c = segs[int(L.argmax())]
    out = g.copy()
    out[0, a:b] = p["c"]
    return out


family("seq_recolour_longest", "1-D: recolour the longest segment a fixed colour", _longest,
       lambda rng, p, d: _many(rng, d, 1, 7, 4, cols=[colour(rng, exclude=(0, p["c"]))] * 4),
       lambda rng, d: {"c": colour(rng)})


def _by_length(g, p):
    out = g.copy()
    for a, b, c in segments(g[0]):
        new = p["map"].get(str(b - a))
        if new is None:
            raise Reject("length without a colour")
        out[0, a:b] = new
    return out


def _lengths_seen(train, test, p):
    seen = {int(x) for q in train for x in _lengths(q.input)}
    return all(set(_lengths(q.input).tolist()) <= seen for q in test)


def _by_length_params(rng, d):
    k = scaled(rng, d, 2, 4)
    base = colour(rng)
    return {"base": base, "map": {str(i + 1): c for i, c in enumerate(colours(rng, k, exclude=(0, base)))}}


family("seq_recolour_by_length", "1-D: recolour each segment by its length (each length has its colour)", _by_length,
       lambda rng, p, d: line(rng, d, [int(rng.choice([int(k) for k in p["map"]])) for _ in range(scaled(rng, d, 2, 5))],
                              [p["base"]] * 5),
       _by_length_params, check=_lengths_seen)


def _parity(g, p):
    out = g.copy()
    for a, b, c in segments(g[0]):
        out[0, a:b] = p["odd"] if (b - a) % 2 else p["even"]
    return out


family("seq_parity", "1-D: colour odd-length segments one colour and even-length ones another", _parity,
       lambda rng, p, d: _many(rng, d, 1, 6, 4, cols=[p["base"]] * 4),
       lambda rng, d: dict(zip(["base", "odd", "even"], colours(rng, 3))), split="held-out")


def _extend(g, p):
    out = g.copy()
    for a, b, c in segments(g[0]):
        if p["side"] == "right":
            out[0, a:] = np.where(out[0, a:] == 0, c, out[0, a:])
        else:
            out[0, :b] = np.where(out[0, :b] == 0, c, out[0, :b])
    return out


family("seq_extend", "1-D: extend the segment to the right or left end of the row", _extend,
       lambda rng, p, d: _one_segment(rng, p, d), lambda rng, d: {"side": str(rng.choice(["left", "right"]))})


def _pack(g, p):
    vals = g[0][g[0] != 0]
    out = np.zeros_like(g)
    if p["side"] == "right":
        out[0, g.shape[1] - len(vals):] = vals
    else:
        out[0, :len(vals)] = vals
    return out


family("seq_pack", "1-D: push all coloured cells together against one end, keeping their order", _pack,
       lambda rng, p, d: _many(rng, d, 1, 4, 4), lambda rng, d: {"side": str(rng.choice(["left", "right"]))})


def _swap_head(g, p):
    """A segment with a one-cell head of another colour: move the head to the other end."""
    out = g.copy()
    row = g[0]
    nz = np.flatnonzero(row)
    a, b = int(nz[0]), int(nz[-1]) + 1
    body = row[a:b]
    if len(body) < 3 or len(np.unique(body)) != 2:
        raise Reject("needs head + body")
    out[0, a:b] = body[::-1]
    return out


def _head_input(rng, p, d):
    L = scaled(rng, d, 3, 12)
    hc, bc = colours(rng, 2)
    g = line(rng, d, [L], [bc])
    a = int(np.flatnonzero(g[0])[0])
    g[0, a if rng.random() < 0.5 else a + L - 1] = hc
    return g


family("seq_flip_head", "1-D: a segment has a head cell of another colour; move the head to the other end",
       _swap_head, _head_input)


def _mirror_marker(g, p):
    ms = np.flatnonzero(g[0] == p["m"])
    if len(ms) != 1:
        raise Reject("needs one marker")
    x = int(ms[0])
    out = np.zeros_like(g)
    out[0, x] = p["m"]
    for i in np.flatnonzero((g[0] != 0) & (g[0] != p["m"])):
        j = 2 * x - i
        if not 0 <= j < g.shape[1]:
            raise Reject("reflection leaves the grid")
        out[0, j] = g[0, i]
    return out


def _mirror_input(rng, p, d):
    g = line(rng, d, [scaled(rng, d, 1, 6), 1], [colour(rng, exclude=(0, p["m"])), p["m"]],
             gap=int(rng.integers(0, 4)))
    return g[:, ::-1].copy() if rng.random() < 0.5 else g


family("seq_reflect_over_marker", "1-D: reflect the segment to the other side of the marker pixel", _mirror_marker,
       _mirror_input, lambda rng, d: {"m": colour(rng)}, split="held-out")


def _drop_short(g, p):
    out = g.copy()
    for a, b, c in segments(g[0]):
        if b - a < p["k"]:
            out[0, a:b] = 0
    return out


family("seq_remove_short", "1-D: erase segments shorter than a fixed length", _drop_short,
       lambda rng, p, d: _many(rng, d, 1, 6, 5), lambda rng, d: {"k": int(rng.integers(2, 4))})

# other values each parameter could take; demonstrations must rule them out
variants("seq_shift", k=[-3, -2, -1, 1, 2, 3])
variants("seq_extend", side=["left", "right"])
variants("seq_pack", side=["left", "right"])
variants("seq_remove_short", k=[2, 3])
