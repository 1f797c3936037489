"""What every config dataclass shares: field options, field docstrings, and rebuilding a config from JSON.

A config dataclass is the single source of a setting: its type, default, choices and help text.
`arcttt.cli.options` builds the command-line flags from it and the run directory stores it as
JSON, so no default or choice list is written a second time anywhere.

Field docstrings are the string literals written under each field (the convention Python's
documentation tools follow); `field_docs` reads them from the class's source.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import typing
from functools import cache
from typing import Any, Sequence

from .errors import ArcTTTError


def option(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
           flag: str | None = None, choices: Sequence | None = None, prefix: str | None = None,
           cli: bool = True, metavar: str | None = None):
    """A dataclass field with what the command line needs to know about it.

    flag: the option's full name when it is not the prefixed field name ('--ttt-steps');
    choices: the allowed values (the same tuple the code validates against);
    prefix: for a nested config, the prefix of its fields' flags ('ttt-');
    cli: False for fields that are not set from the command line.
    """
    metadata = {"flag": flag, "choices": tuple(choices) if choices is not None else None, "prefix": prefix,
                "cli": cli, "metavar": metavar}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


@cache
def field_docs(cls) -> dict[str, str]:
    """Field name -> the docstring written under it in the class body ('' where there is none)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):  # no source (a frozen build): no help texts, nothing else lost
            continue
        body = tree.body[0].body
        for node, after in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(
                    after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


@cache
def field_types(cls) -> dict[str, Any]:
    """Field name -> its resolved type annotation."""
    return typing.get_type_hints(cls)


def unwrap_optional(tp) -> tuple[Any, bool]:
    """(T, True) for `T | None`, else (tp, False)."""
    args = typing.get_args(tp)
    if type(None) in args and len(args) == 2:
        return next(a for a in args if a is not type(None)), True
    return tp, False


def from_dict(cls, data: dict, where: str = "config"):
    """Rebuild a (nested) config dataclass from its `dataclasses.asdict` form.

    Lists become tuples where the field is a tuple; keys the class no longer has are refused
    with their names, so an old or hand-edited config file fails clearly.
    """
    if not isinstance(data, dict):
        raise ArcTTTError(f"{where}: expected an object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ArcTTTError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    types = field_types(cls)
    values = {}
    for name, value in data.items():
        tp, _ = unwrap_optional(types[name])
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            value = from_dict(tp, value, f"{where}.{name}")
        elif typing.get_origin(tp) is tuple and isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


def flat_dict(d: dict, prefix: str = "") -> dict:
    """{'ttt': {'mode': 'lora'}} -> {'ttt.mode': 'lora'}; tuples become lists (as in JSON)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat_dict(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return out
