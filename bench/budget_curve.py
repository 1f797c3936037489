"""Tasks solved against seconds per task: `arcttt solve --task-seconds S` on one suite at several budgets.

    python bench/budget_curve.py --seconds 10 20 40 80 160 --workers 2 --threads 1

Each budget is one resumable run directory under --runs. For each budget the table gives the
tasks solved, pass@2 per output, the median task's seconds and its ratio to the budget (whether
the budget holds), and the median TTT steps and views decoded (what the budget bought). Writes
bench/results/<name>.json and .md, and the curve as a PNG (docs/budget_curve.png by default).
Choose settings on select40 (the default suite), never on dev80.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

from accuracy import WHOLE_SETS, commit, publish, suite_tasks
from arcttt.method.config import SELECTIONS, InferenceConfig
from arcttt.models import DEFAULT_MODEL
from arcttt.run.config import ExecutorConfig, SolveConfig
from arcttt.run.solve import solve_dataset

HOLDS = 0.15
"""The budget holds when the median task's time is within this fraction of it."""


def budget_row(seconds: float, out: Path, summary: dict) -> dict:
    """One budget's scores and what its tasks spent, from the run's records."""
    records = [json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))]
    ok = [r for r in records if r["status"] == "ok"]
    totals = [r["timings"]["total_s"] for r in records]
    median_s = statistics.median(totals) if totals else None
    return {"task_seconds": seconds, "run": str(out), "score": summary["score"],
            "failed": len(summary["failed"]), "median_s": median_s,
            "ratio": round(median_s / seconds, 3) if median_s else None,
            "holds": bool(median_s) and abs(median_s / seconds - 1) <= HOLDS,
            "median_ttt_steps": statistics.median(r["ttt"].get("steps", 0) for r in ok) if ok else None,
            "median_views": statistics.median(r.get("inference", {}).get("prompts", 0) for r in ok) if ok else None}


def markdown(report: dict) -> str:
    lines = [f"Model `{report['model']}`, suite {report['suite']}, commit `{report['commit']}`, {report['date']}, "
             f"view pool: {report['views']}", "",
             "| budget (s/task) | tasks solved | pass@2 per output | median s/task | ratio | holds (±15%) "
             "| median TTT steps | median views |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in report["rows"]:
        s = row["score"]
        lines.append(f"| {row['task_seconds']:g} | {s['tasks_correct']}/{s['tasks_total']} | "
                     f"{100 * s['output_accuracy']:.1f}% | {row['median_s']:.1f} | {row['ratio']:.2f} | "
                     f"{'yes' if row['holds'] else 'no'} | {row['median_ttt_steps']} | {row['median_views']} |")
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def plot(report: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["median_s"] for r in report["rows"]]
    ys = [r["score"]["tasks_correct"] for r in report["rows"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
    ax.plot(xs, ys, marker="o")
    for r, x, y in zip(report["rows"], xs, ys):
        ax.annotate(f"{r['task_seconds']:g} s", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks([r["task_seconds"] for r in report["rows"]], [f"{r['task_seconds']:g}" for r in report["rows"]])
    ax.minorticks_off()
    ax.set_xlabel("median seconds per task (--task-seconds)")
    ax.set_ylabel(f"tasks solved of {report['rows'][0]['score']['tasks_total']}")
    ax.set_title(f"{report['suite']}: TTT + voting under one budget per task", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--suite", default="select40", choices=["select40", "dev80", *WHOLE_SETS])
    p.add_argument("--seconds", type=float, nargs="+", default=[10, 20, 40, 80, 160])
    p.add_argument("--orders", type=int, default=InferenceConfig().orders, help="demonstration orders of the view pool")
    p.add_argument("--infer-colours", type=int, default=InferenceConfig().colours,
                   help="colour-permuted copies of the view pool")
    p.add_argument("--voting", default=SolveConfig().voting, choices=SELECTIONS, help="how the two attempts are chosen")
    p.add_argument("--max-tasks", type=int, default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--runs", default="runs/bench-budget")
    p.add_argument("--name", default="budget_curve")
    p.add_argument("--png", default=str(Path(__file__).parent.parent / "docs" / "budget_curve.png"))
    args = p.parse_args(argv)
    code = commit()
    dataset, tasks = suite_tasks(args.suite)
    inference = InferenceConfig(orders=args.orders, colours=args.infer_colours)
    executor = ExecutorConfig("processes", workers=args.workers) if args.workers > 1 else ExecutorConfig()
    rows = []
    for seconds in sorted(args.seconds):
        out = Path(args.runs) / Path(args.model).name / args.suite / f"{seconds:g}s"
        print(f"== {args.suite}: --task-seconds {seconds:g}", flush=True)
        config = SolveConfig(solver="ttt", dataset=dataset, tasks=tasks, model=args.model, out=str(out),
                             task_seconds=seconds, inference=inference, voting=args.voting,
                             max_tasks=args.max_tasks, threads=args.threads, executor=executor)
        rows.append(budget_row(seconds, out, solve_dataset(config)))
        print(f"   solved {rows[-1]['score']['tasks_correct']}/{rows[-1]['score']['tasks_total']}, "
              f"median {rows[-1]['median_s']:.1f} s", flush=True)
    views = (f"{len(inference.transforms)} transforms x {args.orders} orders x (1 + {args.infer_colours} colours), "
             f"{args.voting} voting")
    report = {"model": args.model, "suite": args.suite, "commit": code, "date": time.strftime("%Y-%m-%d %H:%M"),
              "views": views, "workers": args.workers, "threads": args.threads,
              "command": "python bench/budget_curve.py " + shlex.join(sys.argv[1:] if argv is None else argv),
              "rows": rows}
    publish(args.name, report, markdown(report))
    plot(report, Path(args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
