"""Does torch.compile speed up test-time training here? Eager against compiled TTT, same tasks.

    python bench/compile_speed.py --model models/arcttt-h128x6-2heads --tasks 5 --ttt-steps 16 [--threads 1]

The adapter's model is compiled once (dynamic shapes, inductor's C++ backend) and trained on
each task after the eager run of the same task (same data, seed and steps). The one-time
compile cost is reported apart from the per-task seconds. Writes
bench/results/compile_speed.json and compile_speed.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from arcttt.data.codec import PAD  # noqa: E402
from arcttt.fast.lora_merge import merged_lora_training  # noqa: E402
from arcttt.method.config import TTTConfig  # noqa: E402
from arcttt.method.inference import model_max_positions  # noqa: E402
from arcttt.method.scoring import write_json_atomic  # noqa: E402
from arcttt.method.trainer import TrainConfig, train  # noqa: E402
from arcttt.method.ttt import encode_examples  # noqa: E402
from arcttt.models import DEFAULT_MODEL  # noqa: E402
from arcttt.run.config import SolveConfig  # noqa: E402
from arcttt.run.solver import Solver  # noqa: E402
from speed import pick_tasks  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def timed_ttt(adapter, model, encoded, steps: int, seed: int) -> tuple[float, float]:
    """Seconds and final loss of one TTT run from the reset adapter, through `model`."""
    cfg = adapter.config
    adapter.reset()
    tc = TrainConfig(lr=cfg.lr, max_steps=steps, batch_size=cfg.batch_size, warmup_frac=cfg.warmup_frac,
                     seed=seed, autocast_bf16=adapter.resolved_precision() == "bf16")
    pad = adapter.loaded.vocab.id(PAD)
    with merged_lora_training(adapter.model):
        start = time.perf_counter()
        res = train(model, encoded, tc, pad_id=pad, params=adapter.trainable_parameters())
        return time.perf_counter() - start, res.losses[-1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--tasks", type=int, default=5)
    p.add_argument("--ttt-steps", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="compile_speed")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    solver = Solver(SolveConfig(solver="ttt", model=args.model, device="cpu", seed=args.seed,
                                ttt=TTTConfig(mode="lora", max_steps=args.ttt_steps)))
    adapter = solver.adapter
    tasks = pick_tasks(args.tasks, model_max_positions(adapter.model))
    data = {t.id: encode_examples(adapter.task_dataset(t.without_solutions()), adapter.loaded.vocab,
                                  adapter.config.loss) for t in tasks}
    compiled = torch.compile(adapter.model, dynamic=True)
    compile_s, _ = timed_ttt(adapter, compiled, data[tasks[0].id], args.ttt_steps, args.seed)  # compiles
    rows = []
    for task in tasks:
        eager_s, eager_loss = timed_ttt(adapter, adapter.model, data[task.id], args.ttt_steps, args.seed)
        comp_s, comp_loss = timed_ttt(adapter, compiled, data[task.id], args.ttt_steps, args.seed)
        rows.append({"task": task.id, "eager_s": eager_s, "compiled_s": comp_s, "ratio": eager_s / comp_s,
                     "eager_final_loss": eager_loss, "compiled_final_loss": comp_loss})
        print(f"{task.id}: eager {eager_s:.2f}s, compiled {comp_s:.2f}s (x{eager_s / comp_s:.2f})", flush=True)
    summary = {"median_ratio": statistics.median(r["ratio"] for r in rows),
               "first_compiled_run_s": compile_s, "precision": adapter.resolved_precision()}
    report = {"command": "python bench/compile_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": args.model, "threads": args.threads, "ttt_steps": args.ttt_steps,
              "torch": torch.__version__, "machine": f"{platform.machine()} {platform.processor()}",
              "summary": summary, "tasks": rows}
    RESULTS.mkdir(exist_ok=True)
    write_json_atomic(RESULTS / f"{args.name}.json", report)
    lines = ["| task | eager TTT s | compiled TTT s | ratio | final loss eager / compiled |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['task']} | {r['eager_s']:.2f} | {r['compiled_s']:.2f} | {r['ratio']:.2f} | "
              f"{r['eager_final_loss']:.4f} / {r['compiled_final_loss']:.4f} |" for r in rows]
    lines += ["", f"Median ratio x{summary['median_ratio']:.2f}; the first compiled run (compiling included) took "
              f"{compile_s:.1f} s. TTT in {summary['precision']}, {args.ttt_steps} steps, {args.threads} thread(s), "
              f"torch {torch.__version__}.", "", f"Reproduce: `{report['command']}`", ""]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
