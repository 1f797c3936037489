"""`arcttt solve`: every flag is a field of SolveConfig (arcttt.run.config) or of a config nested in it."""

from __future__ import annotations

import argparse

from ..errors import ArcTTTError
from ..run.config import SolveConfig
from .options import add_config_flags, config_from_args

NEEDS = ("torch", "transformers", "peft")


def configure(p: argparse.ArgumentParser) -> None:
    add_config_flags(p, SolveConfig)
    p.add_argument("--no-ttt", dest="ttt.mode", action="store_const", const="none", default=argparse.SUPPRESS,
                   help="same as --ttt none")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from ..method.scoring import Score, format_score
    from ..run.solve import solve_dataset

    config = config_from_args(SolveConfig, args)
    summary = solve_dataset(config, progress=not args.quiet)
    print(f"run directory: {config.out}")
    print(f"tasks: {summary['finished']}/{summary['tasks']} finished, {len(summary['failed'])} failed")
    if "seconds_per_task" in summary:
        print(f"seconds per task: median {summary['seconds_per_task']['median']}")
    if "score" in summary:
        s = Score(**{k: v for k, v in summary["score"].items() if k in Score.__dataclass_fields__})
        print(format_score(s))
    else:
        print("no solutions known: submission.json written, not scored")
    if config.report:
        print(f"report: {config.out}/report.html")
    if summary["finished"] < summary["tasks"]:
        raise ArcTTTError(f"{summary['tasks'] - summary['finished']} tasks unfinished; re-run to resume")
    return 0
