"""The `arcttt` command: a thin layer that parses arguments and calls the library.

Each subcommand lives in a module of this package with `configure(parser)` and `run(args)`;
modules with a NEEDS tuple name the optional packages they need. Only the asked-for
subcommand's module is imported, so data commands start fast and never import torch.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from types import SimpleNamespace

from ..errors import ArcTTTError

COMMANDS = {
    "datasets": ("list the bundled datasets and subsets", "data:datasets"),
    "show": ("print a task's grids in colour", "data:show"),
    "check": ("validate task files; exit 0 unless a task cannot be loaded", "data:check"),
    "score": ("score a submission.json with pass@2", "data:score"),
    "generate": ("generate synthetic tasks from the generator families", "generate"),
    "finetune": ("initial fine-tuning of a grid LM", "finetune"),
    "solve": ("test-time training + augmented inference (and program search) over a dataset", "solve"),
    "search": ("the verified programs of tasks: program search alone, no model", "search"),
    "combine": ("the ensemble of a finished search run and a finished TTT run of the same tasks", "combine"),
    "report": ("write RUN/report.html: the run's tasks, attempts and candidates as grids", "report"),
}

EXTRAS = {"torch": "engine", "transformers": "engine", "peft": "engine", "safetensors": "engine", "ray": "ray",
          "vllm": "vllm"}
"""Optional package -> the extra of pyproject.toml that installs it."""


def command(name: str) -> SimpleNamespace:
    """The subcommand's configure, run and NEEDS."""
    module_name, _, prefix = COMMANDS[name][1].partition(":")
    module = importlib.import_module(f"arcttt.cli.{module_name}")
    if prefix:
        return SimpleNamespace(configure=getattr(module, f"{prefix}_configure"), run=getattr(module, f"{prefix}_run"),
                               needs=())
    return SimpleNamespace(configure=module.configure, run=module.run, needs=getattr(module, "NEEDS", ()))


def missing_extra(name: str) -> str | None:
    """Why subcommand `name` cannot run here (an optional package is missing), or None."""
    missing = [m for m in command(name).needs if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    extras = sorted({EXTRAS.get(m, m) for m in missing})
    return (f"'arcttt {name}' needs {', '.join(missing)}: pip install 'arcttt[{','.join(extras)}]' "
            f"(from a checkout: pip install -e '.[{','.join(extras)}]')")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, the other subcommands are listed but not configured (nothing of theirs
    is imported)."""
    parser = argparse.ArgumentParser(prog="arcttt", description="Test-time training for ARC-AGI.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            command(name).configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    wanted = next((a for a in argv if not a.startswith("-")), "")
    if wanted in COMMANDS and not {"-h", "--help"} & set(argv):
        problem = missing_extra(wanted)
        if problem:  # before parsing: the same answer whatever flags were given
            print(f"error: {problem}", file=sys.stderr)
            return 2
    args = build_parser(only=wanted if wanted in COMMANDS else None).parse_args(argv)
    try:
        return command(args.command).run(args) or 0
    except ArcTTTError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
