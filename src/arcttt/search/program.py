"""Programs of the search as readable text that parses back into the same program.

A program is an expression over the input grid `x`: a call of a primitive whose first argument is an
expression and whose other arguments are literals, e.g. ``crop_content(flip(x, axis='h'))`` or
``recolour(gravity(x, dir='down'), {1: 2})``. Text is parsed with Python's own parser into a syntax
tree, and only calls of known primitives, the name `x` and literals are accepted (never eval).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ArcTTTError

PRIMITIVES: dict[str, Callable[..., np.ndarray]] = {}
"""Name -> function(grid, *literals, **literals) -> grid: every call a program may contain."""


def primitive(name: str):
    """Register a function under `name` as a primitive that programs may call."""
    def register(fn):
        if name in PRIMITIVES and PRIMITIVES[name] is not fn:
            raise ValueError(f"duplicate search primitive {name!r}")
        PRIMITIVES[name] = fn
        return fn
    return register


class Input:
    """The input grid, `x`."""

    def __str__(self) -> str:
        return "x"

    def __eq__(self, other) -> bool:
        return isinstance(other, Input)

    def __hash__(self) -> int:
        return hash("x")


X = Input()


@dataclass(frozen=True, eq=False)
class Call:
    """fn(arg, *literals, **keywords): arg is the grid expression it transforms."""

    fn: str
    arg: "Call | Input"
    literals: tuple = ()
    keywords: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        parts = [str(self.arg)] + [_literal(v) for v in self.literals]
        parts += [f"{k}={_literal(v)}" for k, v in self.keywords]
        return f"{self.fn}({', '.join(parts)})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Call) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


Program = Call | Input


def _literal(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(w)}" for k, w in v.items()) + "}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_literal(w) for w in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return repr(v)


def run(program: Program, grid: np.ndarray) -> np.ndarray:
    """The program's output on one grid (Reject propagates when a primitive does not apply)."""
    if isinstance(program, Input):
        return grid
    inner = run(program.arg, grid)
    return PRIMITIVES[program.fn](inner, *program.literals, **dict(program.keywords))


def size(program: Program) -> int:
    """Number of calls: the program's length."""
    return 0 if isinstance(program, Input) else 1 + size(program.arg)


def parse(text: str) -> Program:
    """The program that `str(program)` printed as `text`; ArcTTTError on anything else."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ArcTTTError(f"not a program: {text!r} ({e.msg})") from None
    return _from_ast(tree, text)


def _from_ast(node: ast.AST, text: str) -> Program:
    if isinstance(node, ast.Name) and node.id == "x":
        return X
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ArcTTTError(f"not a program: {text!r} (expected x or a call of a primitive)")
    name = node.func.id
    if name not in PRIMITIVES:
        raise ArcTTTError(f"not a program: {text!r} (unknown primitive {name!r})")
    if not node.args:
        raise ArcTTTError(f"not a program: {text!r} ({name} has no grid argument)")
    try:
        literals = tuple(ast.literal_eval(a) for a in node.args[1:])
        keywords = tuple((k.arg, ast.literal_eval(k.value)) for k in node.keywords)
    except ValueError:
        raise ArcTTTError(f"not a program: {text!r} (arguments after the grid must be literals)") from None
    return Call(name, _from_ast(node.args[0], text), literals, keywords)
