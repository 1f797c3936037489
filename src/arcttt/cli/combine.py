"""`arcttt combine RUN_A RUN_B --out RUN`: the ensemble of a finished search run and a finished TTT run."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs=2, metavar="RUN", help="a run directory of --solver search and one of --solver ttt")
    p.add_argument("--out", required=True, help="the combined run directory to write")
    p.add_argument("--no-report", action="store_true", help="no report.html")


def run(args) -> int:
    from ..method.scoring import Score, format_score
    from ..run.combine import combine

    summary = combine(args.runs[0], args.runs[1], args.out, report=not args.no_report)
    print(f"run directory: {args.out}")
    if "score" in summary:
        print(format_score(Score(**{k: v for k, v in summary["score"].items() if k in Score.__dataclass_fields__})))
    return 0
