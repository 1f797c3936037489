"""Command-line flags built from config dataclasses, and configs built back from parsed flags.

Each field of a config dataclass becomes one flag: its name (`--ttt-lr` for TTTConfig.lr under the
prefix 'ttt-', or the field's own `flag`), its type, its default and choices, and its docstring as
the help text. A nested config becomes an argument group. Booleans get `--x/--no-x`, tuples a
comma-separated value, a (float, float) pair 'LO:HI'. Defaults are never written here: a flag the
user did not give keeps the dataclass's own default.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing

from ..errors import ArcTTTError
from ..fields import field_docs, field_types, unwrap_optional


def _flag(field: dataclasses.Field, prefix: str) -> str:
    return field.metadata.get("flag") or f"--{prefix}{field.name.replace('_', '-')}"


def _parser_for(tp, flag: str):
    """The argparse `type` callable of a field type."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        return lambda text: tuple(item(s.strip()) for s in text.split(",") if s.strip())
    if origin is tuple and args == (float, float):
        def pair(text: str) -> tuple[float, float]:
            parts = text.split(":")
            try:
                lo, hi = (float(p) for p in (parts * 2 if len(parts) == 1 else parts))
            except ValueError:
                raise argparse.ArgumentTypeError(f"{flag} takes LO:HI or one number, got '{text}'") from None
            return lo, hi
        return pair
    if tp in (int, float, str):
        return tp
    raise ArcTTTError(f"{flag}: no command-line form for the type {tp}")


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) if all(not isinstance(v, float) for v in value) \
            else ":".join(str(v) for v in value)
    return str(value)


def add_config_flags(parser, cls, prefix: str = "", dest: str = "", root=None) -> None:
    """Add one flag per field of the dataclass `cls` (recursively) to parser (or an argument group).

    Each flag's dest is the field's dotted path ('ttt.data.max_tokens'); its default is SUPPRESS, so
    only the flags given on the command line reach `config_from_args`. Nested configs become argument
    groups of the root parser."""
    root = root or parser
    docs, types = field_docs(cls), field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli", True):
            continue
        tp, optional = unwrap_optional(types[f.name])
        path = f"{dest}{f.name}"
        if dataclasses.is_dataclass(tp):
            group = root.add_argument_group(docs.get(f.name) or tp.__doc__.splitlines()[0].rstrip("."))
            sub_prefix = f.metadata.get("prefix")
            add_config_flags(group, tp, prefix if sub_prefix is None else sub_prefix, f"{path}.", root)
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        flag = _flag(f, prefix)
        if default is None and not optional:
            raise ArcTTTError(f"{cls.__name__}.{f.name} defaults to None but its type does not allow None")
        help_text = docs.get(f.name, "")
        kwargs: dict = {"dest": path, "default": argparse.SUPPRESS}
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
            help_text += f" (default: {'on' if default else 'off'})"
        else:
            kwargs["type"] = _parser_for(tp, flag)
            if f.metadata.get("choices"):
                kwargs["choices"] = f.metadata["choices"]
            if not kwargs.get("choices"):
                kwargs["metavar"] = f.metadata.get("metavar") or f.name.upper()
            if default is not None:
                help_text += f" (default: {_shown(default)})"
        parser.add_argument(flag, help=help_text.replace("%", "%%"), **kwargs)


def config_from_args(cls, args: argparse.Namespace, dest: str = ""):
    """The dataclass `cls` with the fields the command line set, and its own defaults elsewhere."""
    given = vars(args)
    values = {}
    types = field_types(cls)
    for f in dataclasses.fields(cls):
        path = f"{dest}{f.name}"
        tp, _ = unwrap_optional(types[f.name])
        if dataclasses.is_dataclass(tp):
            values[f.name] = config_from_args(tp, args, f"{path}.")
        elif path in given:
            values[f.name] = given[path]
    return cls(**values)


def flags_of(cls, prefix: str = "") -> dict[str, str]:
    """Flag -> the dotted field path it sets (for documentation and tests)."""
    out: dict[str, str] = {}
    types = field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli", True):
            continue
        tp, _ = unwrap_optional(types[f.name])
        if dataclasses.is_dataclass(tp):
            sub_prefix = f.metadata.get("prefix")
            nested = flags_of(tp, prefix if sub_prefix is None else sub_prefix)
            out.update({flag: f"{f.name}.{path}" for flag, path in nested.items()})
        else:
            out[_flag(f, prefix)] = f.name
    return out
