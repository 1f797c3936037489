"""Grids as coloured terminal text (ANSI 256-colour backgrounds)."""

from __future__ import annotations

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
