"""Invertible transforms of grids and tasks, with names that parse back (never eval).

A name is a chain of parts joined by '+', applied left to right, e.g.
``rot90+colour:0312456789+order:2,0,1``. Parts:

- the 8 symmetries of the square: identity, rot90, rot180, rot270, flip_h
  (mirror left-right), flip_v (mirror top-bottom), transpose, antitranspose;
- ``colour:PPPPPPPPPP``: colour c becomes P[c] (a permutation of 0-9);
- ``order:i,j,k``: demonstration order (acts on a task's train list, not on grids);
- the paper's extra test-time transforms, invertible only on grids they produced:
  ``upscale:HxW`` (repeat each cell), ``reflect:h|v`` (concatenate the mirror image),
  ``roll:DY,DX`` (cyclic translation), ``tile:HxW`` (repeat the whole grid).

``invert`` raises TransformError when a grid is not in the transform's image
(e.g. an odd-width grid under the inverse of upscale:1x2); voting drops those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import TransformError
from .tasks import MAX_SIDE, Grid, Pair, Task

__all__ = [
    "Transform", "parse", "compose", "SYMMETRY_NAMES", "VOTING_NAMES", "EXTRA_NAMES",
    "random_colour_permutation", "colour_permutation", "order_permutation",
]


class Transform:
    """Base: a grid-level bijection (onto its image) that also knows how to act on a task.

    Subclasses provide `name`; the base acts as the identity on grids.
    """

    def apply(self, grid: Grid) -> Grid:
        return grid

    def invert(self, grid: Grid) -> Grid:
        return grid

    def apply_task(self, task: Task) -> Task:
        """Apply to every grid of the task, outputs included where present."""

        def pair(p: Pair) -> Pair:
            return Pair(self.apply(p.input), None if p.output is None else self.apply(p.output))

        return Task(task.id, [pair(p) for p in task.train], [pair(p) for p in task.test], task.source, dict(task.meta))

    def invert_task(self, task: Task) -> Task:
        """Undo `apply_task`: invert every grid (and, for order permutations, restore the order)."""

        def pair(p: Pair) -> Pair:
            return Pair(self.invert(p.input), None if p.output is None else self.invert(p.output))

        return Task(task.id, [pair(p) for p in task.train], [pair(p) for p in task.test], task.source, dict(task.meta))

    def parts(self) -> list["Transform"]:
        return [self]

    def __repr__(self) -> str:
        return f"Transform({self.name!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Transform) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True, eq=False)
class _Symmetry(Transform):
    name: str
    fwd: Callable[[Grid], Grid]
    inv: Callable[[Grid], Grid]

    def apply(self, grid: Grid) -> Grid:
        return np.ascontiguousarray(self.fwd(grid))

    def invert(self, grid: Grid) -> Grid:
        return np.ascontiguousarray(self.inv(grid))


def _antitranspose(g: Grid) -> Grid:
    return np.rot90(g, 2).T


_SYMMETRIES = {
    "identity": _Symmetry("identity", lambda g: g, lambda g: g),
    "rot90": _Symmetry("rot90", lambda g: np.rot90(g, -1), lambda g: np.rot90(g, 1)),  # clockwise
    "rot180": _Symmetry("rot180", lambda g: np.rot90(g, 2), lambda g: np.rot90(g, 2)),
    "rot270": _Symmetry("rot270", lambda g: np.rot90(g, 1), lambda g: np.rot90(g, -1)),
    "flip_h": _Symmetry("flip_h", np.fliplr, np.fliplr),
    "flip_v": _Symmetry("flip_v", np.flipud, np.flipud),
    "transpose": _Symmetry("transpose", np.transpose, np.transpose),
    "antitranspose": _Symmetry("antitranspose", _antitranspose, _antitranspose),
}

SYMMETRY_NAMES = tuple(_SYMMETRIES)
# The paper's inference-time voting set: identity, rotations, flips, transpose.
VOTING_NAMES = ("identity", "rot90", "rot180", "rot270", "flip_h", "flip_v", "transpose")
# The paper's extra test-time-training transforms (grow the grid; invertible on their image).
EXTRA_NAMES = (
    "upscale:2x2", "upscale:2x1", "upscale:1x2", "reflect:h", "reflect:v",
    "roll:0,1", "roll:1,0", "tile:1x2", "tile:2x1",
)


@dataclass(frozen=True, eq=False)
class ColourPermutation(Transform):
    perm: tuple[int, ...]

    def __post_init__(self):
        if sorted(self.perm) != list(range(10)):
            raise TransformError(f"colour permutation {self.perm!r} is not a permutation of 0-9")

    @property
    def name(self) -> str:  # type: ignore[override]
        return "colour:" + "".join(str(c) for c in self.perm)

    def inverse(self) -> "ColourPermutation":
        return ColourPermutation(tuple(int(c) for c in np.argsort(self.perm)))

    def apply(self, grid: Grid) -> Grid:
        return np.asarray(self.perm, dtype=np.uint8)[grid]

    def invert(self, grid: Grid) -> Grid:
        return np.argsort(np.asarray(self.perm)).astype(np.uint8)[grid]


@dataclass(frozen=True, eq=False)
class OrderPermutation(Transform):
    """Reorders demonstrations; grids are untouched, so predictions need no inversion."""

    order: tuple[int, ...]

    def __post_init__(self):
        if not self.order or sorted(self.order) != list(range(len(self.order))):
            raise TransformError(f"order {self.order!r} is not a permutation of 0..n-1")

    @property
    def name(self) -> str:  # type: ignore[override]
        return "order:" + ",".join(str(i) for i in self.order)

    def inverse(self) -> "OrderPermutation":
        return OrderPermutation(tuple(int(i) for i in np.argsort(self.order)))

    def apply_task(self, task: Task) -> Task:
        if len(self.order) != len(task.train):
            raise TransformError(f"{self.name}: task {task.id} has {len(task.train)} demonstrations")
        return Task(task.id, [task.train[i] for i in self.order], list(task.test), task.source, dict(task.meta))

    def invert_task(self, task: Task) -> Task:
        return self.inverse().apply_task(task)


@dataclass(frozen=True, eq=False)
class Upscale(Transform):
    fy: int
    fx: int

    def __post_init__(self):
        if not (1 <= self.fy <= MAX_SIDE and 1 <= self.fx <= MAX_SIDE):
            raise TransformError(f"{self.name}: factors must be 1-{MAX_SIDE}")

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"upscale:{self.fy}x{self.fx}"

    def apply(self, grid: Grid) -> Grid:
        return np.repeat(np.repeat(grid, self.fy, axis=0), self.fx, axis=1)

    def invert(self, grid: Grid) -> Grid:
        h, w = grid.shape
        if h % self.fy or w % self.fx:
            raise TransformError(f"{self.name}: a {h}x{w} grid is not an upscaled grid")
        small = grid[:: self.fy, :: self.fx]
        if not np.array_equal(self.apply(small), grid):
            raise TransformError(f"{self.name}: grid is not made of {self.fy}x{self.fx} blocks")
        return np.ascontiguousarray(small)


@dataclass(frozen=True, eq=False)
class Tile(Transform):
    ny: int
    nx: int

    def __post_init__(self):
        if not (1 <= self.ny <= MAX_SIDE and 1 <= self.nx <= MAX_SIDE):
            raise TransformError(f"{self.name}: factors must be 1-{MAX_SIDE}")

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"tile:{self.ny}x{self.nx}"

    def apply(self, grid: Grid) -> Grid:
        return np.tile(grid, (self.ny, self.nx))

    def invert(self, grid: Grid) -> Grid:
        h, w = grid.shape
        if h % self.ny or w % self.nx:
            raise TransformError(f"{self.name}: a {h}x{w} grid is not a tiling")
        small = grid[: h // self.ny, : w // self.nx]
        if not np.array_equal(self.apply(small), grid):
            raise TransformError(f"{self.name}: grid is not {self.ny}x{self.nx} copies of one tile")
        return np.ascontiguousarray(small)


@dataclass(frozen=True, eq=False)
class Reflect(Transform):
    """Concatenate the grid with its mirror image: 'h' to the right, 'v' below."""

    axis: str

    def __post_init__(self):
        if self.axis not in ("h", "v"):
            raise TransformError(f"reflect:{self.axis}: reflect takes h or v")

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"reflect:{self.axis}"

    def apply(self, grid: Grid) -> Grid:
        if self.axis == "h":
            return np.concatenate([grid, np.fliplr(grid)], axis=1)
        return np.concatenate([grid, np.flipud(grid)], axis=0)

    def invert(self, grid: Grid) -> Grid:
        h, w = grid.shape
        n = w if self.axis == "h" else h
        if n % 2:
            raise TransformError(f"{self.name}: a {h}x{w} grid has an odd side")
        small = grid[:, : w // 2] if self.axis == "h" else grid[: h // 2]
        if not np.array_equal(self.apply(small), grid):
            raise TransformError(f"{self.name}: grid is not a grid beside its mirror image")
        return np.ascontiguousarray(small)


@dataclass(frozen=True, eq=False)
class Roll(Transform):
    dy: int
    dx: int

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"roll:{self.dy},{self.dx}"

    def apply(self, grid: Grid) -> Grid:
        return np.roll(grid, (self.dy, self.dx), axis=(0, 1))

    def invert(self, grid: Grid) -> Grid:
        return np.roll(grid, (-self.dy, -self.dx), axis=(0, 1))


@dataclass(frozen=True, eq=False)
class Compose(Transform):
    chain: tuple[Transform, ...]

    @property
    def name(self) -> str:  # type: ignore[override]
        return "+".join(t.name for t in self.chain) if self.chain else "identity"

    def apply(self, grid: Grid) -> Grid:
        for t in self.chain:
            grid = t.apply(grid)
        return grid

    def invert(self, grid: Grid) -> Grid:
        for t in reversed(self.chain):
            grid = t.invert(grid)
        return grid

    def apply_task(self, task: Task) -> Task:
        for t in self.chain:
            task = t.apply_task(task)
        return task

    def invert_task(self, task: Task) -> Task:
        for t in reversed(self.chain):
            task = t.invert_task(task)
        return task

    def parts(self) -> list[Transform]:
        return list(self.chain)


def _ints(text: str, sep: str, name: str) -> list[int]:
    try:
        return [int(x) for x in text.split(sep)]
    except ValueError:
        raise TransformError(f"cannot parse transform '{name}'") from None


def _parse_part(part: str) -> Transform:
    t = _parse_part_loose(part)
    if t.name != part:  # e.g. 'order:01,1' or 'roll:+1,0': one transform, one spelling
        raise TransformError(f"'{part}' is not a canonical transform name (write '{t.name}')")
    return t


def _parse_part_loose(part: str) -> Transform:
    if part in _SYMMETRIES:
        return _SYMMETRIES[part]
    kind, _, arg = part.partition(":")
    if kind == "colour":
        if len(arg) != 10 or sorted(arg) != list("0123456789"):
            raise TransformError(f"'{part}': a colour permutation needs each digit 0-9 exactly once")
        return ColourPermutation(tuple(int(c) for c in arg))
    if kind == "order":
        order = _ints(arg, ",", part)
        if sorted(order) != list(range(len(order))):
            raise TransformError(f"'{part}': not a permutation of 0..{len(order) - 1}")
        return OrderPermutation(tuple(order))
    if kind in ("upscale", "tile"):
        vals = _ints(arg, "x", part)
        if len(vals) != 2:
            raise TransformError(f"'{part}': expected factors like 2x1")
        a, b = vals
        if not (1 <= a <= MAX_SIDE and 1 <= b <= MAX_SIDE):
            raise TransformError(f"'{part}': expected factors like 2x1")
        return Upscale(a, b) if kind == "upscale" else Tile(a, b)
    if kind == "reflect":
        if arg not in ("h", "v"):
            raise TransformError(f"'{part}': reflect takes h or v")
        return Reflect(arg)
    if kind == "roll":
        vals = _ints(arg, ",", part)
        if len(vals) != 2:
            raise TransformError(f"'{part}': roll takes DY,DX")
        return Roll(*vals)
    raise TransformError(f"unknown transform '{part}'")


def parse(name: str) -> Transform:
    """The transform a name denotes; ``parse(t.name) == t`` for every transform."""
    if not isinstance(name, str) or not name:
        raise TransformError(f"empty transform name {name!r}")
    parts = [_parse_part(p) for p in name.split("+")]
    return parts[0] if len(parts) == 1 else Compose(tuple(parts))


def compose(*transforms: Transform) -> Transform:
    """Chain transforms (applied left to right), dropping identities."""
    chain = [p for t in transforms for p in t.parts() if p.name != "identity"]
    if not chain:
        return _SYMMETRIES["identity"]
    return chain[0] if len(chain) == 1 else Compose(tuple(chain))


def colour_permutation(perm) -> ColourPermutation:
    return ColourPermutation(tuple(int(c) for c in perm))


def order_permutation(order) -> OrderPermutation:
    return OrderPermutation(tuple(int(i) for i in order))


def random_colour_permutation(rng: np.random.Generator, keep_black: bool = True) -> ColourPermutation:
    """A random colour permutation; black (0, usually background) stays fixed by default."""
    if keep_black:
        perm = [0] + [int(c) + 1 for c in rng.permutation(9)]
    else:
        perm = [int(c) for c in rng.permutation(10)]
    return ColourPermutation(tuple(perm))
