"""ARC tasks: the Grid/Pair/Task types and their validation.

Grids are 2-D ``numpy.ndarray`` of dtype uint8 inside the library and lists of
lists at the edges (JSON). Every grid that enters the library passes
:func:`validate_grid`, so later stages can trust shapes and colours.
Loading from files and bundled sets lives in :mod:`arcttt.datasets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import TaskFormatError

MAX_SIDE = 30
"""ARC's largest grid side. Larger grids load with a warning (ARC-like sets in the wild have them); the
codec and the model's context decide whether such a task can be solved."""
NUM_COLOURS = 10

Grid = np.ndarray


def validate_grid(obj: Any, where: str = "grid") -> Grid:
    """Turn a list of lists (or array) into a uint8 grid, or raise TaskFormatError naming `where`."""
    if isinstance(obj, np.ndarray):
        rows = obj.tolist()
    else:
        rows = obj
    if not isinstance(rows, list):
        raise TaskFormatError(f"{where}: expected a list of rows, got {type(rows).__name__}")
    if len(rows) == 0:
        raise TaskFormatError(f"{where}: empty grid (no rows)")
    width = None
    for r, row in enumerate(rows):
        if not isinstance(row, list):
            raise TaskFormatError(f"{where}: row {r} is {type(row).__name__}, not a list")
        if len(row) == 0:
            raise TaskFormatError(f"{where}: row {r} is empty")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise TaskFormatError(f"{where}: ragged rows (row 0 has {width} cells, row {r} has {len(row)})")
        for c, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TaskFormatError(f"{where}: cell ({r},{c}) is {v!r}, not an integer colour")
            if not 0 <= v < NUM_COLOURS:
                raise TaskFormatError(f"{where}: cell ({r},{c}) has colour {v}, outside 0-9")
    return np.array(rows, dtype=np.uint8)


def grid_to_list(grid: Grid) -> list[list[int]]:
    return [[int(v) for v in row] for row in grid]


def grid_key(grid: Grid) -> tuple:
    """A hashable identity of a grid (shape and cells), for dedup and voting."""
    return (grid.shape, grid.tobytes())


def grid_from_key(key: tuple) -> Grid:
    shape, data = key
    return np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()


@dataclass(frozen=True, eq=False)
class Pair:
    """One input grid and its output grid; the output is None where it is hidden (Kaggle test).

    Pairs compare and hash by grid content (the dataclass default would compare arrays
    element-wise and fail with "truth value of an array is ambiguous").
    """

    input: Grid
    output: Grid | None = None

    def _key(self) -> tuple:
        return grid_key(self.input), None if self.output is None else grid_key(self.output)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Pair):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass
class Task:
    """K demonstration pairs (`train`) and test pairs whose outputs may be absent."""

    id: str
    train: list[Pair]
    test: list[Pair]
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Task {self.id} | {len(self.train)} train | {len(self.test)} test>"

    @property
    def has_solutions(self) -> bool:
        return all(p.output is not None for p in self.test)

    def without_solutions(self) -> "Task":
        """A copy whose test outputs are removed: what a solver is allowed to see."""
        return Task(self.id, list(self.train), [Pair(p.input) for p in self.test], self.source, dict(self.meta))

    def all_grids(self) -> list[Grid]:
        grids = []
        for p in self.train + self.test:
            grids.append(p.input)
            if p.output is not None:
                grids.append(p.output)
        return grids

    def largest_side(self) -> int:
        """The longest row or column of any grid of the task."""
        return max(max(g.shape) for g in self.all_grids())

    def grid_limit(self) -> int:
        """The largest grid side that augmentation and decoding allow for this task: ARC's 30, or the
        side of the task's own largest grid where that is larger."""
        return max(MAX_SIDE, self.largest_side())

    def size_warning(self) -> str | None:
        """Why this task's grids are unusual for ARC (a grid over 30x30), or None."""
        if self.largest_side() <= MAX_SIDE:
            return None
        big = next(g for g in self.all_grids() if max(g.shape) > MAX_SIDE)
        return (f"{self.source + ': ' if self.source else ''}task {self.id}: a {big.shape[0]}x{big.shape[1]} grid, "
                f"larger than ARC's {MAX_SIDE}x{MAX_SIDE}; loaded, and solved if it fits the model's context")

    def to_json(self) -> dict:
        def pair(p: Pair) -> dict:
            d = {"input": grid_to_list(p.input)}
            if p.output is not None:
                d["output"] = grid_to_list(p.output)
            return d

        return {"train": [pair(p) for p in self.train], "test": [pair(p) for p in self.test]}

    @classmethod
    def from_json(cls, data: Any, task_id: str, source: str = "", require_test_outputs: bool = False) -> "Task":
        """Build and validate a task from the standard ARC JSON dict; errors name source, task and pair."""
        where = f"{source + ': ' if source else ''}task {task_id}"
        if not isinstance(data, dict):
            raise TaskFormatError(f"{where}: expected a JSON object with 'train' and 'test', got {type(data).__name__}")
        for key in ("train", "test"):
            if key not in data:
                raise TaskFormatError(f"{where}: missing key '{key}'")
            if not isinstance(data[key], list):
                raise TaskFormatError(f"{where}: '{key}' must be a list of pairs")
        if not data["train"]:
            raise TaskFormatError(f"{where}: no demonstration pairs in 'train'")
        if not data["test"]:
            raise TaskFormatError(f"{where}: no test inputs in 'test'")

        def parse_pair(split: str, i: int, d: Any, need_output: bool) -> Pair:
            pw = f"{where}, {split} pair {i}"
            if not isinstance(d, dict):
                raise TaskFormatError(f"{pw}: expected an object with 'input'/'output'")
            if "input" not in d:
                raise TaskFormatError(f"{pw}: missing key 'input'")
            if need_output and "output" not in d:
                raise TaskFormatError(f"{pw}: missing key 'output'")
            inp = validate_grid(d["input"], f"{pw} input")
            if need_output and d["output"] is None:
                raise TaskFormatError(f"{pw}: output is null")
            out = validate_grid(d["output"], f"{pw} output") if d.get("output") is not None else None
            return Pair(inp, out)

        train = [parse_pair("train", i, d, True) for i, d in enumerate(data["train"])]
        test = [parse_pair("test", i, d, require_test_outputs) for i, d in enumerate(data["test"])]
        return cls(task_id, train, test, source)
