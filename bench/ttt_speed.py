"""Seconds for TTT + augmented inference on the median-size dev80 task, with tokens/s.

    python bench/ttt_speed.py --model models/arcttt-h128x6-2heads [--repeats 3]

"Median-size" is by the length of the encoded task (demonstrations + test
input + test output). Writes bench/results/ttt_speed.json and ttt_speed.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from arcttt.data.codec import encode_task
from arcttt.data.datasets import load_dataset
from arcttt.method.scoring import write_json_atomic
from arcttt.models import DEFAULT_MODEL
from arcttt.run.config import SolveConfig
from arcttt.run.solver import Solver

RESULTS = Path(__file__).parent / "results"


def median_task(tasks):
    ranked = sorted(tasks, key=lambda t: (len(encode_task(t, with_answer=True)), t.id))
    return ranked[len(ranked) // 2]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--task", default=None, help="a dev80 task id instead of the median-size one")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--name", default="ttt_speed")
    args = p.parse_args(argv)
    tasks = load_dataset("arc1/eval", "dev80").tasks
    task = next(t for t in tasks if t.id == args.task) if args.task else median_task(tasks)
    solver = Solver(SolveConfig(solver="ttt", model=args.model))
    runs = []
    for i in range(args.repeats):
        start = time.perf_counter()
        rec = solver.solve(task.without_solutions())
        wall = time.perf_counter() - start
        if rec["status"] != "ok":
            raise SystemExit(f"solve failed: {rec['error']}")
        t, inf = rec["timings"], rec["inference"]
        runs.append({"total_s": wall, "ttt_s": t["ttt_s"], "inference_s": t["inference_s"],
                     "ttt_tokens": rec["ttt"]["tokens"], "ttt_examples": rec["ttt"]["examples"],
                     "ttt_steps": rec["ttt"]["steps"],
                     "train_tokens_per_s": rec["ttt"]["tokens"] / t["ttt_s"] if t["ttt_s"] else 0.0,
                     "generated_tokens": inf.get("generated_tokens", 0), "prompts": inf.get("prompts", 0),
                     "decode_tokens_per_s": inf.get("generated_tokens", 0) / t["inference_s"]})
        print(f"run {i}: {wall:.1f}s (ttt {t['ttt_s']:.1f}s, inference {t['inference_s']:.1f}s)", flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    report = {"task": task.id, "task_tokens": len(encode_task(task, with_answer=True)), "model": args.model,
              "parameters": sum(p.numel() for n, p in solver.loaded.model.named_parameters() if "lora_" not in n),
              "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch threads {torch.get_num_threads()}",
              "median": med, "runs": runs, "under_60s": med["total_s"] < 60}
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json_atomic(RESULTS / f"{args.name}.json", report)
    md = ("| task | tokens | TTT s | inference s | total s | train tok/s | decode tok/s |\n"
          "| --- | --- | --- | --- | --- | --- | --- |\n"
          f"| {task.id} | {report['task_tokens']} | {med['ttt_s']:.1f} | {med['inference_s']:.1f} | "
          f"{med['total_s']:.1f} | {med['train_tokens_per_s']:,.0f} | {med['decode_tokens_per_s']:,.0f} |\n\n"
          f"Medians of {args.repeats} runs; model `{args.model}` ({report['parameters']:,} parameters); "
          f"{report['machine']}.\n")
    (RESULTS / f"{args.name}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
