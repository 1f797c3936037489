"""`arcttt search`: the verified programs of tasks, with their cost and time (no model needed).

    arcttt search my_task.json
    arcttt search --dataset arc1/train --tasks 1e0a9b12,1cf80156 --json
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ArcTTTError
from ..search.config import SearchConfig
from .options import add_config_flags, config_from_args


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", help="task JSON files, folders or Kaggle *_challenges.json files")
    p.add_argument("--dataset", help="a bundled set, folder or file (instead of paths)")
    p.add_argument("--tasks", help="subset of --dataset: dev80, a CSV with task_id, or comma-separated ids")
    p.add_argument("--json", action="store_true", help="one JSON object per task, for tools")
    add_config_flags(p, SearchConfig)


def run(args) -> int:
    from ..data.datasets import LoadResult, load, load_dataset
    from ..search.engine import search

    if bool(args.paths) == bool(args.dataset):
        raise ArcTTTError("give task files or folders, or --dataset (with --tasks), but not both")
    res = LoadResult()
    if args.dataset:
        res = load_dataset(args.dataset, args.tasks)
    for path in args.paths:
        res.extend(load(path))
    for err in res.errors:
        print(f"error: {err}", file=sys.stderr)
    config = config_from_args(SearchConfig, args)
    for task in res.tasks:
        result = search(task.without_solutions(), config)
        right = [task.test[i].output.tolist() in result.attempts(i) for i in range(len(task.test))] \
            if task.has_solutions else None
        if args.json:
            print(json.dumps({**result.to_dict(), "correct": right}), flush=True)
            continue
        verdict = "" if right is None or not result.programs else ("  (right)" if all(right) else "  (wrong)")
        print(f"{task.id}: {len(result.programs) or 'no'} program(s), {result.states} states, "
              f"{result.seconds:.1f}s, {result.stopped}{verdict}", flush=True)
        for f in result.programs[:5]:
            print(f"  cost {f.cost}  {f.seconds:5.1f}s  {f.program}")
    return 1 if res.errors else 0
