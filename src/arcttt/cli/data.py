"""The data commands: `datasets`, `show`, `check` and `score` (torch-free, fast to start)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ArcTTTError


def datasets_configure(p: argparse.ArgumentParser) -> None:
    pass


def datasets_run(args) -> int:
    from ..data.datasets import BUNDLED, SUBSETS, load_bundled, subset

    for name in BUNDLED:
        res = load_bundled(name)
        n_out = sum(len(t.test) for t in res.tasks)
        print(f"{name:12s} {len(res.tasks):5d} tasks  {n_out:5d} test outputs")
    for name in SUBSETS:
        print(f"subset {name:8s} {len(subset(name)):4d} ids of arc1/eval (--tasks {name})")
    return 0


def show_configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", help="DATASET:TASK_ID (e.g. arc1/eval:0a1d4ef5) or a task JSON file")
    p.add_argument("--no-colour", action="store_true", help="plain digits instead of coloured cells")
    p.add_argument("--hide-answer", action="store_true", help="do not print test outputs")


def show_run(args) -> int:
    from ..data.datasets import load, load_task_file
    from ..data.render import format_task

    if ":" in args.ref and not args.ref.endswith(".json"):
        spec, task_id = args.ref.rsplit(":", 1)
        res = load(spec)
        by_id = {t.id: t for t in res.tasks}
        if task_id not in by_id:
            raise ArcTTTError(f"task '{task_id}' is invalid: {res.invalid[task_id]}" if task_id in res.invalid
                              else f"task '{task_id}' is not in {spec}")
        task = by_id[task_id]
    else:
        task = load_task_file(args.ref)
    if args.hide_answer:
        task = task.without_solutions()
    print(format_task(task, colour=not args.no_colour))
    return 0


def check_configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="task JSON files, folders, or Kaggle *_challenges.json files")


def check_run(args) -> int:
    """BAD for what cannot be loaded (exit 1), WARN for what loads but is unusual (exit 0)."""
    from ..data.datasets import load

    n_ok = n_bad = n_warn = 0
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
        for warning in res.warnings:
            print(f"WARN {warning}")
        n_bad += len(res.errors)
        n_warn += len(res.warnings)
    print(f"{n_ok} valid task(s), {n_bad} problem(s), {n_warn} warning(s)")
    return 0 if n_bad == 0 else 1


def score_configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission.json")
    p.add_argument("--dataset", required=True, help="bundled name, folder or Kaggle challenges file (with solutions)")
    p.add_argument("--tasks", help="subset: dev80, a CSV with task_id, or comma-separated ids")
    p.add_argument("--json", action="store_true", help="print the score as JSON")


def score_run(args) -> int:
    from ..data.datasets import difficulty_levels, load_dataset
    from ..method.scoring import format_score, read_submission, score_submission

    res = load_dataset(args.dataset, args.tasks)
    score = score_submission(read_submission(args.submission), res.tasks, difficulty_levels())
    for w in score.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(json.dumps(score.to_dict(), indent=1) if args.json else format_score(score))
    return 0
