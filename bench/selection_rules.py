"""Selection rules compared on a finished TTT run's records alone, without running the model again.

    python bench/selection_rules.py bench/ledger/arcttt-h128x6-2heads/select40/ttt-plus-voting \
        [--name selection_rules_select40]

Each record keeps its test inputs' ranked candidates with their votes (views that decoded the grid)
and, under `--voting poe`, their product-of-experts score (the grid's log-probability summed over the
voting views). Every rule re-ranks those candidates and keeps its top two; a task counts as solved when
every test output is among them. Only runs whose candidates all carry a score count (others are
skipped and counted). The candidates are the shortlist PoE scored, so a rule can only reorder it:
`answer among the candidates` is the ceiling. Choose rules on select40, never on dev80.

Writes bench/results/<name>.json (the command, the commit, per rule the tasks solved and which) and
<name>.md (a table).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from accuracy import commit, publish, solutions_of
from arcttt.data.codec import output_length
from arcttt.data.datasets import load_dataset
from arcttt.run.run_dir import RunDir

Rule = Callable[[dict], float]
"""A candidate's sort key: lower ranks first (Python's sort is stable, so ties keep the recorded order)."""


def rules() -> dict[str, Rule]:
    """The rules compared: the recorded order (PoE for a PoE run), votes, PoE per answer token, and PoE
    plus a bonus in the log of the votes."""
    out: dict[str, Rule] = {"recorded order": lambda c: 0.0,
                            "votes": lambda c: -c["votes"],
                            "PoE per answer token": lambda c: -c["score"] / output_length(np.asarray(c["grid"]))}
    for weight in (0.5, 1.0, 2.0, 4.0, 8.0):
        out[f"PoE + {weight:g} ln(votes)"] = _poe_plus_votes(weight)
    return out


def _poe_plus_votes(weight: float) -> Rule:
    return lambda c: -(c["score"] + weight * math.log(max(c["votes"], 1)))


def compare(records: dict[str, dict], truth: dict[str, list]) -> dict:
    """Per rule, the tasks whose every test output is among its top two; the ceiling; what was skipped."""
    usable = {tid: r for tid, r in records.items()
              if tid in truth and r.get("status") == "ok" and len(r.get("candidates") or []) >= len(truth[tid])
              and all(c.get("score") is not None for per_test in r["candidates"] for c in per_test)}
    ranked_by = rules()
    solved = {name: [] for name in ranked_by}
    among = []
    for tid, record in sorted(usable.items()):
        per_test = list(zip(record["candidates"], truth[tid]))
        if all(any(c["grid"] == answer for c in cands) for cands, answer in per_test):
            among.append(tid)
        for name, key in ranked_by.items():
            if all(any(c["grid"] == answer for c in sorted(cands, key=key)[:2]) for cands, answer in per_test):
                solved[name].append(tid)
    return {"tasks": len(usable), "skipped": len(records) - len(usable), "among_candidates": among,
            "solved": solved}


def markdown(report: dict) -> str:
    r = report["result"]
    lines = [f"Run `{report['run']}`, commit `{report['commit']}`, {report['date']}", "",
             f"{r['tasks']} tasks with scored candidates ({r['skipped']} skipped); the answer among the "
             f"candidates on {len(r['among_candidates'])}.", "", "| rule | tasks solved |", "| --- | --- |"]
    lines += [f"| {name} | {len(ids)}/{r['tasks']} |" for name, ids in r["solved"].items()]
    return "\n".join(lines) + f"\n\nCommand: `{report['command']}`\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a finished run directory (its config.json names the dataset)")
    p.add_argument("--name", default="selection_rules")
    args = p.parse_args(argv)
    config = json.loads((args.run / "config.json").read_text())
    truth = solutions_of(load_dataset(config["dataset"]).tasks)
    report = {"run": str(args.run), "commit": commit(), "date": time.strftime("%Y-%m-%d %H:%M"),
              "command": "python bench/selection_rules.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "result": compare(RunDir(args.run).finished(), truth)}
    publish(args.name, report, markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
