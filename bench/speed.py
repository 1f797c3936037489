"""Side-by-side speed of test-time training + augmented inference: a plain transformers + PEFT baseline
(bench/baseline_hf.py) against arcttt's engine (Solver.solve), same model, tasks, TTT data and prompts.

    python bench/speed.py --model models/arcttt-h128x6-2heads --tasks 10 [--threads 1] [--ttt-steps N]

With --seeds K every task runs under K seeds (TTT data, LoRA init, views and both sides' batch
orders follow the seed), so pass@2 compares rates rather than one draw of the batch order.
Tasks are dev80 tasks picked at quantiles of their encoded length (or, with --suite heldout, tasks of
the generator's held-out families as bench/accuracy.py builds them, where the tiny model solves some,
so pass@2 can be compared on solved tasks). For each task the two paths run
back to back (order alternating task by task, so both share the machine's noise); ratios are taken
from the same run. Writes bench/results/speed.json and speed.md.

MFU of the TTT loop (LoRA): FLOPs = 2*N_frozen*T + 2*N_frozen*T (forward + input-gradient backward through
the frozen linear weights) + 6*N_lora*T (forward, input and weight gradients of the adapters)
+ 3 * 2*L*d*sum(S^2) (causal attention scores and values: forward 2*L*d*S^2 per sequence of length S,
backward twice that), where N counts linear-layer weights (embedding lookups excluded) and T the
tokens trained on; divided by seconds and by the FLOP/s of a 2048x2048 matmul at the same thread count, in
the precision TTT ran in (fp32, or bf16 under mixed precision).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

import baseline_hf  # noqa: E402
from accuracy import commit  # noqa: E402
from arcttt.data.codec import encode_task  # noqa: E402
from arcttt.data.datasets import load_dataset  # noqa: E402
from arcttt.data.tasks import grid_to_list  # noqa: E402
from arcttt.method.config import InferenceConfig, TTTConfig  # noqa: E402
from arcttt.method.inference import augmented_views  # noqa: E402
from arcttt.method.scoring import write_json_atomic  # noqa: E402
from arcttt.method.ttt import encode_examples  # noqa: E402
from arcttt.method.voting import vote  # noqa: E402
from arcttt.models import DEFAULT_MODEL, resolve_model  # noqa: E402
from arcttt.run.config import SolveConfig  # noqa: E402
from arcttt.run.solver import Solver  # noqa: E402

RESULTS = Path(__file__).parent / "results"


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 20 ms)."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.peak = 0

    def __enter__(self):
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def mib(self) -> float:
        return self.peak / 2**20


def suite_tasks(suite: str, model_path: str | None, seed: int = 0) -> list:
    """dev80, or 2 tasks per held-out generator family decontaminated against the model's training pool."""
    if suite == "dev80":
        return load_dataset("arc1/eval", "dev80").tasks
    from accuracy import heldout_tasks
    from arcttt.train.finetune import pair_keys, recorded_training_pool

    has_record = model_path and (Path(model_path) / "arcttt.json").exists()  # not for a random model
    return heldout_tasks(2, seed, pair_keys(recorded_training_pool(model_path)) if has_record else set())


def pick_tasks(n: int, max_positions: int, suite: str = "dev80", model_path: str | None = None):
    """n tasks of the suite at quantiles of encoded length, among those whose prompts fit the context."""
    tasks = [t for t in suite_tasks(suite, model_path)
             if len(encode_task(t, with_answer=True)) < max_positions - 2]
    ranked = sorted(tasks, key=lambda t: (len(encode_task(t, with_answer=True)), t.id))
    if n >= len(ranked):
        return ranked
    idx = sorted({round(i * (len(ranked) - 1) / max(1, n - 1)) for i in range(n)}) if n > 1 else [len(ranked) // 2]
    return [ranked[i] for i in idx]


def baseline_task(visible, model_path: str, adapter, ttt_cfg, inf_cfg, seed: int, max_pos: int) -> dict:
    """Baseline (a) on one task: TTT with the Trainer, then one generate per view; timings and attempts."""
    vocab = adapter.loaded.vocab
    t0 = time.perf_counter()
    examples = adapter.task_dataset(visible)  # the same data (config, seed) as arcttt
    b = baseline_hf.ttt(model_path, examples, vocab, ttt_cfg, seed, visible.id)
    ttt_s = time.perf_counter() - t0
    stats: dict = {}
    t1 = time.perf_counter()
    cands = []
    for ti in range(len(visible.test)):
        views = augmented_views(visible, ti, inf_cfg, vocab, seed)
        views = [v for v in views if len(v.prompt) < max_pos - 2]  # as arcttt does
        cands.append(baseline_hf.infer(b.model, views, vocab, stats))
    inf_s = time.perf_counter() - t1
    attempts = [[grid_to_list(g) for g in vote(c, "hierarchical").attempts] for c in cands]
    return {"ttt_s": ttt_s, "inference_s": inf_s, "ttt_steps": b.steps, "ttt_tokens": b.tokens,
            "generated_tokens": stats.get("generated_tokens", 0), "attempts": attempts}


def matmul_flops(threads: int, n: int = 2048, repeats: int = 5, dtype=torch.float32) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def lora_ttt_flops(model, examples_lengths: list[int], steps: int, batches_per_epoch: int) -> float:
    """FLOPs of the TTT loop under the formula in the module docstring (scaled to the steps run)."""
    frozen = lora = 0
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            if "lora_" in name:
                lora += mod.weight.numel()
            elif not any(k in name for k in ("lora_",)):
                frozen += mod.weight.numel()
    cfg = model.config
    layers, d = cfg.num_hidden_layers, cfg.hidden_size
    tokens = sum(examples_lengths)
    attn = 2 * layers * d * sum(s * s for s in examples_lengths)
    per_epoch = 4 * frozen * tokens + 6 * lora * tokens + 3 * attn
    return per_epoch * steps / batches_per_epoch


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL, help="model folder or shipped model name")
    p.add_argument("--tasks", type=int, default=10, help="tasks picked at length quantiles")
    p.add_argument("--task-ids", default=None,
                   help="comma-separated ids of the suite to run instead (e.g. one task under many --seeds)")
    p.add_argument("--suite", default="dev80", choices=["dev80", "heldout"],
                   help="dev80, or the generator's held-out families (as bench/accuracy.py builds them)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for both paths")
    p.add_argument("--ttt-steps", type=int, default=None, help="cap TTT steps (same for both); default: epochs")
    p.add_argument("--epochs", type=float, default=TTTConfig().epochs)
    p.add_argument("--max-examples", type=int, default=None, help="cap TTT examples per task (same for both)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=1,
                   help="run every task under this many seeds (seed, seed+1, ...; the same for both sides): "
                        "each side draws its own TTT batch order, so pass@2 on a few tasks is a matter of luck "
                        "for one seed; more seeds compare the two sides' pass@2 rates")
    p.add_argument("--name", default="speed")
    p.add_argument("--no-bf16-baseline", action="store_true",
                   help="skip the second baseline TTT run with the Trainer's bf16 mixed precision")
    args = p.parse_args(argv)
    code = commit()
    torch.set_num_threads(args.threads)

    model_path = str(resolve_model(args.model))
    ttt_cfg = TTTConfig(mode="lora", max_steps=args.ttt_steps, epochs=args.epochs)  # the baseline is peft LoRA
    if args.max_examples:
        ttt_cfg.data.max_examples = args.max_examples
    inf_cfg = InferenceConfig(colours=0)  # the paper's 14 views, the ones the baseline decodes
    seeds = list(range(args.seed, args.seed + max(1, args.seeds)))
    solvers = {s: Solver(SolveConfig(solver="ttt", model=model_path, device="cpu", seed=s, ttt=ttt_cfg,
                                     inference=inf_cfg))
               for s in seeds}
    solver = solvers[seeds[0]]
    vocab = solver.loaded.vocab
    peak_flops = {"fp32": matmul_flops(args.threads), "bf16": matmul_flops(args.threads, dtype=torch.bfloat16)}
    from arcttt.method.inference import model_max_positions
    max_pos = model_max_positions(solver.loaded.model)
    if args.task_ids:
        wanted = args.task_ids.split(",")
        by_id = {t.id: t for t in suite_tasks(args.suite, model_path)}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            p.error(f"not in the {args.suite} suite: {', '.join(missing)}")
        tasks = [by_id[i] for i in wanted]
    else:
        tasks = pick_tasks(args.tasks, max_pos, args.suite, model_path)
    rows = []
    runs = [(task, s) for task in tasks for s in seeds]
    for k, (task, seed) in enumerate(runs):
        solver = solvers[seed]
        visible = task.without_solutions()
        row = {"task": task.id, "seed": seed, "tokens": len(encode_task(task, with_answer=True))}

        def run_baseline():
            with PeakRSS() as mem:
                row["a"] = baseline_task(visible, model_path, solver.adapter, ttt_cfg, inf_cfg, seed, max_pos)
            row["a"]["peak_rss_mib"] = mem.mib
            if not args.no_bf16_baseline:  # the same Trainer with bf16=True: TTT time only
                t2 = time.perf_counter()
                baseline_hf.ttt(model_path, solver.adapter.task_dataset(visible), vocab, ttt_cfg, seed, task.id,
                                bf16=True)
                row["a"]["ttt_bf16_s"] = time.perf_counter() - t2

        def run_arcttt():
            with PeakRSS() as mem:
                rec = solver.solve(visible)
            if rec["status"] != "ok":
                print(f"  arcttt failed on {task.id}: {rec['error']}", flush=True)
            examples = solver.adapter.task_dataset(visible)
            lengths = [len(e) for e in encode_examples(examples, vocab, ttt_cfg.loss)]
            steps = rec["ttt"].get("steps", 0)
            flops = lora_ttt_flops(solver.adapter.model, lengths, steps, int(np.ceil(len(lengths) / ttt_cfg.batch_size)))
            t = rec["timings"]
            row["b"] = {"ttt_s": t.get("ttt_s", 0.0), "inference_s": t.get("inference_s", 0.0), "ttt_steps": steps,
                        "ttt_precision": rec["ttt"].get("precision"),
                        "ttt_tokens": rec["ttt"].get("tokens", 0),
                        "generated_tokens": rec.get("inference", {}).get("generated_tokens", 0),
                        "peak_rss_mib": mem.mib, "attempts": rec["attempts"],
                        "ttt_flops": flops, "ttt_mfu": flops / t["ttt_s"] / peak_flops[rec["ttt"].get("precision") or "fp32"]
                        if t.get("ttt_s") else 0.0}

        for fn in ((run_baseline, run_arcttt) if k % 2 == 0 else (run_arcttt, run_baseline)):
            fn()
        solutions = [grid_to_list(p.output) for p in task.test]
        for side in ("a", "b"):
            r = row[side]
            r["pass2"] = all(any(a == sol for a in att) for att, sol in zip(r["attempts"], solutions)) if r["attempts"] else False
            r["ttt_tok_s"] = r["ttt_tokens"] / r["ttt_s"] if r["ttt_s"] else 0.0
            r["gen_tok_s"] = r["generated_tokens"] / r["inference_s"] if r["inference_s"] else 0.0
        row["same_attempts"] = row["a"]["attempts"] == row["b"]["attempts"]
        row["ttt_ratio"] = row["a"]["ttt_s"] / row["b"]["ttt_s"] if row["b"]["ttt_s"] else None
        row["inference_ratio"] = row["a"]["inference_s"] / row["b"]["inference_s"] if row["b"]["inference_s"] else None
        b_total = row["b"]["ttt_s"] + row["b"]["inference_s"]
        row["total_ratio"] = (row["a"]["ttt_s"] + row["a"]["inference_s"]) / b_total
        if "ttt_bf16_s" in row["a"]:
            row["ttt_ratio_bf16"] = row["a"]["ttt_bf16_s"] / row["b"]["ttt_s"] if row["b"]["ttt_s"] else None
            row["total_ratio_bf16"] = (row["a"]["ttt_bf16_s"] + row["a"]["inference_s"]) / b_total
        rows.append(row)
        print(f"{task.id} seed {seed} ({row['tokens']} tok): TTT {row['a']['ttt_s']:.1f}s vs {row['b']['ttt_s']:.1f}s "
              f"(x{row['ttt_ratio']:.2f}), inference {row['a']['inference_s']:.1f}s vs {row['b']['inference_s']:.1f}s "
              f"(x{row['inference_ratio']:.2f}), same attempts {row['same_attempts']}", flush=True)

    def med(key, side=None):
        vals = [(r[side][key] if side else r[key]) for r in rows]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    summary = {side: {k: med(k, side) for k in ("ttt_s", "inference_s", "ttt_tok_s", "gen_tok_s", "peak_rss_mib")}
               for side in ("a", "b")}
    summary.update({k: med(k) for k in ("ttt_ratio", "inference_ratio", "total_ratio")})
    if all("ttt_bf16_s" in r["a"] for r in rows):
        summary["a"]["ttt_bf16_s"] = med("ttt_bf16_s", "a")
        summary.update({k: med(k) for k in ("ttt_ratio_bf16", "total_ratio_bf16")})
    summary["b"]["ttt_mfu"] = med("ttt_mfu", "b")
    summary["mean_total_s"] = {side: statistics.mean(r[side]["ttt_s"] + r[side]["inference_s"] for r in rows)
                               for side in ("a", "b")}
    summary["mean_total_ratio"] = summary["mean_total_s"]["a"] / summary["mean_total_s"]["b"]
    summary["same_attempts"] = sum(r["same_attempts"] for r in rows)
    summary["pass2"] = {side: sum(r[side]["pass2"] for r in rows) for side in ("a", "b")}
    command = "python bench/speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    precisions = sorted({str(r["b"].get("ttt_precision")) for r in rows})
    report = {"command": command, "commit": code, "suite": args.suite, "seeds": seeds,
              "model": args.model,
              "parameters": sum(p.numel() for n, p in solver.loaded.model.named_parameters() if "lora_" not in n),
              "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, "
                         f"torch {torch.__version__}, threads {args.threads}",
              "matmul_gflops": {k: v / 1e9 for k, v in peak_flops.items()}, "ttt": {"epochs": args.epochs, "max_steps": args.ttt_steps,
                                                        "max_examples": ttt_cfg.data.max_examples},
              "summary": summary, "tasks": rows}
    for r in rows:
        for side in ("a", "b"):
            r[side].pop("attempts")
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json_atomic(RESULTS / f"{args.name}.json", report)
    lines = ["| task | tokens | TTT s (a) | TTT s (b) | TTT x | infer s (a) | infer s (b) | infer x | total x | "
             "same attempts | pass@2 a/b |", "| --- " * 11 + "|"]
    for r in rows:
        name = r["task"] if len(seeds) == 1 else f"{r['task']} s{r['seed']}"
        lines.append(f"| {name} | {r['tokens']} | {r['a']['ttt_s']:.1f} | {r['b']['ttt_s']:.1f} | "
                     f"{r['ttt_ratio']:.2f} | {r['a']['inference_s']:.1f} | {r['b']['inference_s']:.1f} | "
                     f"{r['inference_ratio']:.2f} | {r['total_ratio']:.2f} | {r['same_attempts']} | "
                     f"{int(r['a']['pass2'])}/{int(r['b']['pass2'])} |")
    s = summary
    lines += ["", f"Medians: TTT {s['a']['ttt_s']:.1f}s (a) vs {s['b']['ttt_s']:.1f}s (b), x{s['ttt_ratio']:.2f}; "
              f"inference {s['a']['inference_s']:.1f}s vs {s['b']['inference_s']:.1f}s, x{s['inference_ratio']:.2f}; "
              f"TTT+inference x{s['total_ratio']:.2f}. Mean TTT+inference seconds per task run "
              f"{s['mean_total_s']['a']:.1f} (a) vs {s['mean_total_s']['b']:.1f} (b), x{s['mean_total_ratio']:.2f}.",
              f"Train tokens/s {s['a']['ttt_tok_s']:,.0f} (a) vs {s['b']['ttt_tok_s']:,.0f} (b); generated tokens/s "
              f"{s['a']['gen_tok_s']:,.0f} vs {s['b']['gen_tok_s']:,.0f}; peak RSS {s['a']['peak_rss_mib']:,.0f} vs "
              f"{s['b']['peak_rss_mib']:,.0f} MiB (process-wide).",
              f"TTT MFU of (b): {100 * s['b']['ttt_mfu']:.1f}% of the 2048x2048 matmul FLOP/s in TTT's precision "
              f"(fp32 {report['matmul_gflops']['fp32']:.1f}, bf16 {report['matmul_gflops']['bf16']:.1f} GFLOP/s, "
              "same threads); formula in bench/speed.py's docstring.",
              f"Same attempts on {s['same_attempts']}/{len(rows)} runs; pass@2 {s['pass2']['a']} (a) vs "
              f"{s['pass2']['b']} (b) of {len(rows)} runs ({len(tasks)} tasks x seeds {', '.join(map(str, seeds))}).",
              f"arcttt TTT precision: {', '.join(precisions)} (--ttt-precision auto); the baseline's TTT is fp32, "
              "the Trainer's default." + (
                  f" Against the same Trainer with bf16=True (mixed precision; median TTT "
                  f"{s['a']['ttt_bf16_s']:.1f}s): TTT x{s['ttt_ratio_bf16']:.2f}, TTT+inference "
                  f"x{s['total_ratio_bf16']:.2f}." if "ttt_ratio_bf16" in s else ""),
              "", "(a) transformers Trainer + peft + one generate per prompt (bench/baseline_hf.py); "
              "(b) arcttt Solver.solve.",
              f"Tasks: {args.suite}, {'named' if args.task_ids else 'at length quantiles'}. Commit {code}. Model: {report['model']} "
              f"({report['parameters']:,} parameters); {report['machine']}.", "", f"Reproduce: `{command}`"]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
