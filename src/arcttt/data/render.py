"""Grids for people: coloured terminal text (ANSI 256-colour backgrounds) and inline SVG for HTML pages."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tasks import Grid, Task

# The standard ARC palette as xterm-256 colour numbers.
ANSI_COLOURS = (16, 33, 196, 40, 226, 248, 201, 208, 117, 88)


def grid_lines(grid: Grid, colour: bool = True) -> list[str]:
    if not colour:
        return ["".join(str(int(v)) for v in row) for row in grid]
    return ["".join(f"\x1b[48;5;{ANSI_COLOURS[int(v)]}m{int(v)} " for v in row) + "\x1b[0m" for row in grid]


def side_by_side(left: list[str], right: list[str], left_width: int, gap: str = "  ->  ") -> list[str]:
    n = max(len(left), len(right))
    out = []
    for i in range(n):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        pad = " " * (left_width - (_visible_len(a)))
        out.append(a + pad + (gap if i == 0 else " " * len(gap)) + b)
    return out


def _visible_len(s: str) -> int:
    import re

    return len(re.sub(r"\x1b\[[0-9;]*m", "", s))


def format_task(task: Task, colour: bool = True) -> str:
    lines = [repr(task)]
    cell = 2 if colour else 1
    for split, pairs in (("train", task.train), ("test", task.test)):
        for i, p in enumerate(pairs):
            lines.append(f"{split} {i}: input {p.input.shape[0]}x{p.input.shape[1]}"
                         + (f", output {p.output.shape[0]}x{p.output.shape[1]}" if p.output is not None else ""))
            right = grid_lines(p.output, colour) if p.output is not None else ["?"]
            lines += side_by_side(grid_lines(p.input, colour), right, p.input.shape[1] * cell)
            lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML

PALETTE = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"]
"""The standard ARC colours 0-9."""

GRID_CSS = ("svg.g{display:block;shape-rendering:crispEdges;outline:1px solid #777}"
            "svg.g path{stroke-width:1}svg.g rect{stroke:none}"
            "svg.g .gl{fill:none;stroke:#555;stroke-width:1px;vector-effect:non-scaling-stroke}"
            + "".join(f".c{i}{{fill:{c};stroke:{c}}}" for i, c in enumerate(PALETTE)))
"""The CSS that `grid_html` needs: include it once in any page that draws grids."""


def grid_rows(grid: Any) -> list[list[int]] | None:
    """A grid (array or list of lists) as rows of ints 0-9; None when it is not a non-empty rectangle.

    No size limit: ARC-like tasks in the wild have grids over 30x30.
    """
    if isinstance(grid, np.ndarray):
        grid = grid.tolist()
    if not isinstance(grid, list) or not grid or not all(isinstance(r, list) and r for r in grid):
        return None
    if len({len(r) for r in grid}) != 1:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 9 for r in grid for v in r):
        return None
    return grid


def grid_html(grid: Any, max_px: int = 160, max_cell: int = 16) -> str:
    """An inline SVG of one grid in the ARC palette (needs `GRID_CSS` on the page).

    A rectangle in the most common colour, then per other colour one path whose horizontal runs are
    drawn as strokes one cell thick (a run costs a few bytes, a cell nothing).

    Cells are `max_cell` px, shrunk so the longer side fits `max_px` (never below 2 px); grid lines
    are drawn only while cells are big enough to show them. Anything that is not a grid is drawn
    as a short note instead of raising, so one bad record cannot break a page.
    """
    rows = grid_rows(grid)
    if rows is None:
        return '<span class="note">(not a grid)</span>'
    h, w = len(rows), len(rows[0])
    cell = max(2, min(max_cell, max_px // max(h, w)))
    counts = np.bincount([v for r in rows for v in r], minlength=10)
    bg = int(counts.argmax())
    runs: dict[int, list[str]] = {}
    for y, row in enumerate(rows):
        x = 0
        while x < w:
            x0, v = x, row[x]
            while x < w and row[x] == v:
                x += 1
            if v != bg:
                runs.setdefault(v, []).append(f"M{x0} {y}.5h{x - x0}")
    parts = [f'<rect class="c{bg}" width="{w}" height="{h}"/>']
    parts += [f'<path class="c{v}" d="{"".join(d)}"/>' for v, d in sorted(runs.items())]
    if cell >= 6 and h * w > 1:
        lines = "".join(f"M0 {y}H{w}" for y in range(1, h)) + "".join(f"M{x} 0V{h}" for x in range(1, w))
        parts.append(f'<path class="gl" d="{lines}"/>')
    return (f'<svg class="g" viewBox="0 0 {w} {h}" width="{w * cell}" height="{h * cell}">'
            f"<title>{h}x{w}</title>{''.join(parts)}</svg>")
