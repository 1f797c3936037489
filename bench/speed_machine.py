"""Whole-machine speed: the same task set solved with all of this machine's cores, each side its best way.

    python bench/speed_machine.py --model models/arcttt-h128x6-2heads --tasks 10 --ttt-steps 16

(a) the baseline of bench/baseline_hf.py (transformers Trainer + peft + one generate per
    prompt), task after task, with torch's default of one thread per core, as a user runs it;
(b) arcttt's `solve` with the process executor: one single-threaded worker per core, each
    solving whole tasks (small models use threads poorly; processes split the work cleanly);
(c) for reference, arcttt's serial `solve` with one thread per core (what threads alone give).
Each side's figure is the wall-clock time for the whole set, worker start and model loading
included, divided by the number of tasks. Same tasks (dev80 at length quantiles), TTT steps,
TTT data and inference prompts as bench/speed.py, whose per-task table compares the two
engines at equal threads. Writes bench/results/speed_machine.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from accuracy import commit  # noqa: E402
from arcttt.data.tasks import grid_to_list  # noqa: E402
from arcttt.method.config import InferenceConfig, TTTConfig  # noqa: E402
from arcttt.method.inference import model_max_positions  # noqa: E402
from arcttt.method.scoring import write_json_atomic  # noqa: E402
from arcttt.models import DEFAULT_MODEL, resolve_model  # noqa: E402
from arcttt.run.config import ExecutorConfig, SolveConfig  # noqa: E402
from arcttt.run.solve import solve_dataset  # noqa: E402
from arcttt.run.solver import Solver  # noqa: E402
from speed import baseline_task, pick_tasks  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def pass2(attempts: list, task) -> bool:
    solutions = [grid_to_list(p.output) for p in task.test]
    return bool(attempts) and all(any(a == s for a in att) for att, s in zip(attempts, solutions))


def run_arcttt(config: SolveConfig, tasks) -> tuple[float, dict]:
    """Wall seconds of a solve over the tasks, and the records by task id."""
    start = time.perf_counter()
    solve_dataset(config, progress=False)
    wall = time.perf_counter() - start
    records = {}
    for task in tasks:
        records[task.id] = json.loads((Path(config.out) / "results" / f"{task.id}.json").read_text())
    return wall, records


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--tasks", type=int, default=10)
    p.add_argument("--ttt-steps", type=int, default=None)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores to use (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="speed_machine")
    args = p.parse_args(argv)
    cores = args.cores
    ttt_cfg = TTTConfig(mode="lora", max_steps=args.ttt_steps)  # the baseline is peft LoRA
    inf_cfg = InferenceConfig(colours=0)  # the paper's 14 views, the ones the baseline decodes
    torch.set_num_threads(cores)
    solver = Solver(SolveConfig(solver="ttt", model=args.model, device="cpu", seed=args.seed, ttt=ttt_cfg, inference=inf_cfg))
    max_pos = model_max_positions(solver.loaded.model)
    tasks = pick_tasks(args.tasks, max_pos)
    ids = ",".join(t.id for t in tasks)
    report: dict = {"command": "python bench/speed_machine.py " + " ".join(sys.argv[1:] if argv is None else argv),
                    "commit": commit(),
                    "model": args.model, "tasks": [t.id for t in tasks], "cores": cores,
                    "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}"}

    start = time.perf_counter()
    baseline = {}
    for task in tasks:
        baseline[task.id] = baseline_task(task.without_solutions(), str(resolve_model(args.model)), solver.adapter,
                                          ttt_cfg, inf_cfg, args.seed, max_pos)
        print(f"(a) {task.id}: TTT {baseline[task.id]['ttt_s']:.1f}s, inference {baseline[task.id]['inference_s']:.1f}s",
              flush=True)
    a_wall = time.perf_counter() - start
    del solver

    with tempfile.TemporaryDirectory() as tmp:
        def config(out: str, executor: str, threads: int) -> SolveConfig:
            return SolveConfig(solver="ttt", dataset="arc1/eval", tasks=ids, model=args.model, out=str(Path(tmp) / out),
                               device="cpu", seed=args.seed, ttt=ttt_cfg, inference=inf_cfg,
                               executor=ExecutorConfig(executor, workers=cores), threads=threads)

        b_wall, b_records = run_arcttt(config("processes", "processes", 1), tasks)
        print(f"(b) {b_wall:.1f}s for {len(tasks)} tasks", flush=True)
        c_wall, c_records = run_arcttt(config("serial", "serial", cores), tasks)
        print(f"(c) {c_wall:.1f}s for {len(tasks)} tasks", flush=True)

    n = len(tasks)
    sides = {
        "a": {"what": f"baseline, tasks in turn, {cores} torch threads", "wall_s": a_wall,
              "pass2": sum(pass2(baseline[t.id]["attempts"], t) for t in tasks)},
        "b": {"what": f"arcttt, {cores} worker processes x 1 thread", "wall_s": b_wall,
              "pass2": sum(pass2(b_records[t.id]["attempts"], t) for t in tasks)},
        "c": {"what": f"arcttt, tasks in turn, {cores} torch threads", "wall_s": c_wall,
              "pass2": sum(pass2(c_records[t.id]["attempts"], t) for t in tasks)},
    }
    for s in sides.values():
        s["s_per_task"] = s["wall_s"] / n
    report.update(sides=sides, ratio_a_b=a_wall / b_wall, ratio_a_c=a_wall / c_wall,
                  same_attempts_a_b=sum(baseline[t.id]["attempts"] == b_records[t.id]["attempts"] for t in tasks),
                  per_task={t.id: {"a": {k: baseline[t.id][k] for k in ("ttt_s", "inference_s")},
                                   "b": b_records[t.id]["timings"], "c": c_records[t.id]["timings"]} for t in tasks})
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json_atomic(RESULTS / f"{args.name}.json", report)
    lines = ["| side | how | wall s (set) | s per task | pass@2 |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| ({k}) | {s['what']} | {s['wall_s']:.1f} | {s['s_per_task']:.1f} | {s['pass2']}/{n} |"
              for k, s in sides.items()]
    lines += ["", f"TTT + inference per task, whole machine: (a)/(b) x{report['ratio_a_b']:.2f}; "
              f"(a)/(c) x{report['ratio_a_c']:.2f} (threads alone). Same attempts (a) vs (b) on "
              f"{report['same_attempts_a_b']}/{n} tasks.",
              f"Tasks: {', '.join(report['tasks'])} (dev80 at length quantiles); model {args.model}; "
              f"commit {report['commit']}; {report['machine']}.",
              "", f"Reproduce: `{report['command']}`"]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
