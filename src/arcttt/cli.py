"""The `arcttt` command: a thin layer that parses arguments and calls the library.

Each subcommand is a (configure, run) pair in COMMANDS; modules that need torch
are imported only when their subcommand runs, so data commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from .errors import ArcTTTError


def _datasets_configure(p: argparse.ArgumentParser) -> None:
    pass


def _datasets_run(args) -> int:
    from .datasets import BUNDLED, SUBSETS, load_bundled, subset

    for name in BUNDLED:
        res = load_bundled(name)
        n_out = sum(len(t.test) for t in res.tasks)
        print(f"{name:12s} {len(res.tasks):5d} tasks  {n_out:5d} test outputs")
    for name in SUBSETS:
        print(f"subset {name:8s} {len(subset(name)):4d} ids of arc1/eval (--tasks {name})")
    return 0


def _show_configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", help="DATASET:TASK_ID (e.g. arc1/eval:0a1d4ef5) or a task JSON file")
    p.add_argument("--no-colour", action="store_true", help="plain digits instead of coloured cells")
    p.add_argument("--hide-answer", action="store_true", help="do not print test outputs")


def _show_run(args) -> int:
    from .datasets import load, load_task_file
    from .render import format_task

    if ":" in args.ref and not args.ref.endswith(".json"):
        spec, task_id = args.ref.rsplit(":", 1)
        by_id = {t.id: t for t in load(spec).tasks}
        if task_id not in by_id:
            raise ArcTTTError(f"task '{task_id}' is not in {spec}")
        task = by_id[task_id]
    else:
        task = load_task_file(args.ref)
    if args.hide_answer:
        task = task.without_solutions()
    print(format_task(task, colour=not args.no_colour))
    return 0


def _check_configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="task JSON files, folders, or Kaggle *_challenges.json files")


def _check_run(args) -> int:
    from .datasets import load

    n_ok = n_bad = 0
    seen: dict[str, str] = {}
    for path in args.paths:
        try:
            res = load(path)
        except ArcTTTError as e:  # a missing path or an unreadable Kaggle file: report it, check the rest
            print(f"BAD  {e}")
            n_bad += 1
            continue
        for t in res.tasks:
            if t.id in seen:
                print(f"BAD  {t.source}: task {t.id}: duplicate task id (also in {seen[t.id]})")
                n_bad += 1
                continue
            seen[t.id] = t.source
            n_ok += 1
        for err in res.errors:
            print(f"BAD  {err}")
        n_bad += len(res.errors)
    print(f"{n_ok} valid task(s), {n_bad} problem(s)")
    return 0 if n_bad == 0 else 1


def _score_configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission.json")
    p.add_argument("--dataset", required=True, help="bundled name, folder or Kaggle challenges file (with solutions)")
    p.add_argument("--tasks", default=None, help="subset: dev80, a CSV with task_id, or comma-separated ids")
    p.add_argument("--json", action="store_true", help="print the score as JSON")


def _score_run(args) -> int:
    from .datasets import difficulty_levels, load_dataset
    from .scoring import format_score, read_submission, score_submission

    res = load_dataset(args.dataset, args.tasks)
    score = score_submission(read_submission(args.submission), res.tasks, difficulty_levels())
    for w in score.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(json.dumps(score.to_dict(), indent=1) if args.json else format_score(score))
    return 0


def _lazy(module: str):
    """(configure, run) of a subcommand whose module is imported only when needed."""

    def configure(p):
        importlib.import_module(f"arcttt.{module}").configure(p)

    def run(args):
        return importlib.import_module(f"arcttt.{module}").run(args)

    return configure, run


COMMANDS = {
    "datasets": ("list the bundled datasets and subsets", _datasets_configure, _datasets_run),
    "show": ("print a task's grids in colour", _show_configure, _show_run),
    "check": ("validate task files; exit 0 only if all are valid", _check_configure, _check_run),
    "score": ("score a submission.json with pass@2", _score_configure, _score_run),
    "generate": ("generate synthetic tasks from the generator families", *_lazy("generate_cli")),
    "finetune": ("initial fine-tuning of a grid LM", *_lazy("finetune_cli")),
    "solve": ("test-time training + augmented inference over a dataset", *_lazy("solve_cli")),
}


# Subcommands whose modules may import torch: configured only when they are the one asked for.
LAZY_COMMANDS = ("generate", "finetune", "solve")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, lazy subcommands other than `only` are listed but not configured
    (so `arcttt show ...` never imports the engine)."""
    parser = argparse.ArgumentParser(prog="arcttt", description="Test-time training for ARC-AGI.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, configure, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is not None and name in LAZY_COMMANDS and name != only:
            continue
        try:
            configure(p)
        except ModuleNotFoundError as e:  # an optional part not installed: the rest of the CLI still works
            p.set_defaults(_unavailable=f"'arcttt {name}' needs {e.name}: pip install -e '.[engine]'")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    wanted = next((a for a in argv if not a.startswith("-")), "")
    args = build_parser(only=wanted).parse_args(argv)
    if getattr(args, "_unavailable", None):
        print(f"error: {args._unavailable}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command][2](args) or 0
    except ArcTTTError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
