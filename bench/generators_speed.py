"""Throughput of the synthetic task generators (tasks per second, one core).

    python bench/generators_speed.py [--tasks 40] [--repeats 3]

For each family, times `--tasks` tasks with difficulties spread over [0, 1] (fresh seeds each repeat) and
keeps the median of `--repeats` runs; the overall figure times the same mix over all families together.
Writes bench/results/generators_speed.json and bench/results/generators_speed.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from arcttt.train.generators import generate_task, list_families

RESULTS = Path(__file__).parent / "results"


def time_family(name: str, n: int, seed0: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        generate_task(name, seed0 + i, round(i / max(1, n - 1), 3))
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=40, help="tasks per family per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    fams = list_families()
    per = {}
    for f in fams:
        rates = [time_family(f.name, args.tasks, 1000 * r) for r in range(args.repeats)]
        per[f.name] = {"split": f.split, "group": f.group, "tasks_per_s": round(statistics.median(rates), 1)}

    overall_runs = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        n = 0
        for f in fams:
            for i in range(args.tasks // 4):
                generate_task(f.name, 50_000 + 1000 * r + i, round(i / max(1, args.tasks // 4 - 1), 3))
                n += 1
        overall_runs.append(n / (time.perf_counter() - t0))
    overall = statistics.median(overall_runs)
    rates = sorted(v["tasks_per_s"] for v in per.values())
    summary = {
        "families": len(fams),
        "overall_tasks_per_s": round(overall, 1),
        "median_family_tasks_per_s": round(statistics.median(rates), 1),
        "min_family_tasks_per_s": rates[0],
        "families_below_200_per_s": sorted(k for k, v in per.items() if v["tasks_per_s"] < 200),
        "tasks_per_family": args.tasks,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generators_speed.json").write_text(json.dumps({"summary": summary, "families": per}, indent=1))

    slow = sorted(per.items(), key=lambda kv: kv[1]["tasks_per_s"])[:10]
    md = [
        "# Generator throughput",
        "",
        f"One core, Python {summary['python']} ({summary['machine']}); median of {args.repeats} repeats, "
        f"{args.tasks} tasks per family per repeat, difficulty spread over [0, 1].",
        "",
        "| measure | tasks/s |",
        "|---|---|",
        f"| overall (all {len(fams)} families mixed) | {summary['overall_tasks_per_s']} |",
        f"| median family | {summary['median_family_tasks_per_s']} |",
        f"| slowest family | {summary['min_family_tasks_per_s']} |",
        "",
        "Slowest families:",
        "",
        "| family | group | split | tasks/s |",
        "|---|---|---|---|",
    ] + [f"| `{k}` | {v['group']} | {v['split']} | {v['tasks_per_s']} |" for k, v in slow] + [""]
    (args.out / "generators_speed.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
