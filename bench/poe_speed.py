"""Product-of-experts scoring (`--voting poe`) on this CPU: whole sequences, as arcttt scored them before,
against the prompt run once per view into a KV cache with each grid's answer on top (score_grids now).

    python bench/poe_speed.py [--tasks 10] [--grids 6] [--threads 1]

Per dev80 task (--tasks of them, at quantiles of prompt length): the shipped model scores --grids grids
of the task's first test output shape (the true output and copies with cells changed; the scores are
the same whatever the grids) under the 7 voting transforms, as PoE rescoring of hierarchical voting's
shortlist does. Both sides must give the same scores (checked). Writes bench/results/poe_speed.json and
poe_speed.md: seconds per task for each side and their ratio, median over tasks.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from accuracy import commit, publish, suite_tasks
from arcttt.data.codec import PAD, encode
from arcttt.data.datasets import load_dataset
from arcttt.data.tasks import grid_key
from arcttt.data.transforms import VOTING_NAMES, parse
from arcttt.method.inference import model_max_positions, score_grids
from arcttt.method.trainer import collate
from arcttt.models import DEFAULT_MODEL
from arcttt.run.config import SolveConfig
from arcttt.run.solver import Solver


@torch.inference_mode()
def whole_sequences(model, vocab, task, grids, batch_size: int = 16) -> dict[tuple, float]:
    """The scoring replaced by score_grids: every (view, grid) sequence run whole, 16 to a batch."""
    max_positions = model_max_positions(model)
    items = []
    for name in VOTING_NAMES:
        t = parse(name)
        view = t.apply_task(task)
        for g in grids:
            e = encode(view.train, view.test[0].input, t.apply(g), vocab, loss="query")
            if len(e) <= max_positions:
                items.append((grid_key(g), e))
    scores = {grid_key(g): 0.0 for g in grids}
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        ids, attn, target = collate([e for _, e in chunk], vocab.id(PAD), "cpu")
        logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        for (key, _), v in zip(chunk, (logp * target[:, 1:]).sum(-1).tolist()):
            scores[key] += v
    return scores


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--tasks", type=int, default=10)
    p.add_argument("--grids", type=int, default=6)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--name", default="poe_speed")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    solver = Solver(SolveConfig(solver="ttt", model=args.model, device="cpu", threads=args.threads))
    model, vocab = solver.loaded.model.eval(), solver.loaded.vocab
    dataset, ids = suite_tasks("dev80")
    fits = [t for t in load_dataset(dataset, ids).tasks  # tasks whose answer fits the model's context
            if len(encode(t.train, t.test[0].input, t.test[0].output)) <= model_max_positions(model)]
    tasks = sorted(fits, key=lambda t: len(encode(t.train, t.test[0].input)))
    n = max(1, min(args.tasks, len(tasks)))
    tasks = [tasks[i * (len(tasks) - 1) // max(1, n - 1)] for i in range(n)]  # at prompt-length quantiles
    rng = np.random.default_rng(0)
    rows = []
    for task in tasks:
        truth = task.test[0].output
        grids = [truth] + [np.where(rng.random(truth.shape) < 0.2, rng.integers(0, 10, truth.shape), truth)
                           .astype(np.uint8) for _ in range(args.grids - 1)]
        visible = task.without_solutions()
        t0 = time.perf_counter()
        before = whole_sequences(model, vocab, visible, grids)
        t1 = time.perf_counter()
        now = score_grids(model, vocab, visible, 0, grids, VOTING_NAMES)
        t2 = time.perf_counter()
        worst = max(abs(before[k] - now[k]) for k in before)
        if worst > 1e-2:
            raise SystemExit(f"{task.id}: the two scorings differ by {worst:.4f}")
        rows.append({"task_id": task.id, "prompt_tokens": len(encode(visible.train, visible.test[0].input)),
                     "whole_s": round(t1 - t0, 3), "cached_s": round(t2 - t1, 3), "ratio": round((t1 - t0) / (t2 - t1), 2),
                     "max_abs_diff": worst})
        print(f"{task.id}: {rows[-1]['prompt_tokens']} prompt tokens, {rows[-1]['whole_s']} s -> "
              f"{rows[-1]['cached_s']} s (x{rows[-1]['ratio']})", flush=True)
    report = {"model": args.model, "commit": commit(), "threads": args.threads, "grids": args.grids,
              "transforms": len(VOTING_NAMES), "rows": rows,
              "median_whole_s": round(statistics.median(r["whole_s"] for r in rows), 3),
              "median_cached_s": round(statistics.median(r["cached_s"] for r in rows), 3),
              "median_ratio": round(statistics.median(r["ratio"] for r in rows), 2),
              "command": "python bench/poe_speed.py " + " ".join(argv if argv is not None else __import__("sys").argv[1:])}
    lines = [f"PoE scoring of {args.grids} grids x {len(VOTING_NAMES)} views per task, model `{args.model}`, "
             f"{args.threads} thread(s), commit `{report['commit']}`", "",
             "| task | prompt tokens | whole sequences s | prompt cached s | ratio |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['task_id']} | {r['prompt_tokens']} | {r['whole_s']} | {r['cached_s']} | x{r['ratio']} |" for r in rows]
    lines += ["", f"Median: {report['median_whole_s']} s -> {report['median_cached_s']} s, "
              f"ratio x{report['median_ratio']}.", "", f"Command: `{report['command']}`"]
    publish(args.name, report, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
