"""Validation loss of candidate models: how well each predicts answers of real ARC tasks it never saw.

    python bench/validation_loss.py --model models/arcttt-tiny --model runs/tiny6 [--views 8]

The set is ARC-AGI-1 evaluation *outside* dev80 (320 tasks): a model chosen by this number is not
chosen by its dev80 score, which stays a clean test. Each test pair is scored under teacher forcing with
all its demonstrations (dropped from the end until the sequence fits), in `--views` symmetric views
(identity, rotations, flips, ...). Reported per model: nats per answer token, per-token argmax accuracy and
the answers whose every token is the argmax (an upper bound on greedy exact match). Also on the
generator's held-out families (`--heldout-per-family`), a check that generalisation to new rules is not
traded away. Writes bench/results/<name>.json and .md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import commit, heldout_tasks, publish  # noqa: E402
from arcttt.data.codec import encode, sequence_length
from arcttt.data.datasets import load, subset
from arcttt.data.tasks import Task
from arcttt.data.transforms import SYMMETRY_NAMES, parse
from arcttt.method.models import load_model, parameter_count, set_threads


def arc1_eval_outside_dev80() -> list[Task]:
    dev80 = set(subset("dev80"))
    return [t for t in load("arc1/eval").tasks if t.id not in dev80]


def scored_sequences(tasks: list[Task], views: int, max_tokens: int, vocab):
    """(task id, encoded sequence with the loss on the query's answer) for each test pair and view."""
    for task in tasks:
        for name in SYMMETRY_NAMES[:views]:
            view = parse(name).apply_task(task)
            for pair in view.test:
                demos = list(view.train)
                while demos and sequence_length(demos, pair.input, pair.output) > max_tokens:
                    demos.pop()
                if demos:
                    yield task.id, encode(demos, pair.input, pair.output, vocab, loss="query")


@torch.no_grad()
def answer_scores(model, sequences) -> dict:
    """Summed answer NLL, argmax-correct tokens and wholly argmax-correct answers."""
    nll = correct = tokens = exact = answers = 0
    per_task: dict[str, list[float]] = {}
    for task_id, enc in sequences:
        ids = torch.as_tensor(enc.ids)[None]
        target = torch.as_tensor(enc.loss_mask[1:])
        logits = model(input_ids=ids).logits[0, :-1][target].float()
        gold = ids[0, 1:][target]
        loss = torch.nn.functional.cross_entropy(logits, gold, reduction="sum").item()
        hits = int((logits.argmax(-1) == gold).sum())
        nll, correct, tokens = nll + loss, correct + hits, tokens + len(gold)
        exact, answers = exact + int(hits == len(gold)), answers + 1
        per_task.setdefault(task_id, []).append(loss / len(gold))
    return {"nats_per_answer_token": nll / tokens, "token_accuracy": correct / tokens,
            "argmax_exact_answers": exact, "answers": answers,
            "mean_task_nats_per_token": float(np.mean([np.mean(v) for v in per_task.values()])),
            "tasks": len(per_task)}


def markdown(report: dict) -> str:
    lines = [f"Commit `{report['commit']}`, {report['date']}, {report['views']} views per test pair; "
             f"`{report['command']}`", "",
             "| model | parameters | suite | tasks | nats / answer token | token accuracy | argmax-exact answers |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in report["rows"]:
        lines.append(f"| `{row['model']}` | {row['parameters']:,} | {row['suite']} | {row['tasks']} | "
                     f"{row['nats_per_answer_token']:.3f} | {row['token_accuracy']:.1%} | "
                     f"{row['argmax_exact_answers']} / {row['answers']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="a model folder (repeat to compare)")
    p.add_argument("--views", type=int, default=8, help=f"symmetric views per test pair (1-{len(SYMMETRY_NAMES)})")
    p.add_argument("--max-tokens", type=int, default=8192)
    p.add_argument("--heldout-per-family", type=int, default=2, help="0 to skip the held-out families")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--name", default="validation_loss")
    args = p.parse_args(argv)
    if not 1 <= args.views <= len(SYMMETRY_NAMES):
        p.error(f"--views must be between 1 and {len(SYMMETRY_NAMES)}")
    set_threads(args.threads)
    suites = {"ARC-AGI-1 eval outside dev80": arc1_eval_outside_dev80()}
    if args.heldout_per_family:
        suites["held-out families"] = heldout_tasks(args.heldout_per_family, seed=0)
    report = {"commit": commit(), "date": time.strftime("%Y-%m-%d %H:%M"), "views": args.views,
              "command": " ".join(["python", "bench/validation_loss.py", *(argv or sys.argv[1:])]), "rows": []}
    for model_path in args.model:
        loaded = load_model(model_path, device="cpu", dtype="fp32")
        for suite, tasks in suites.items():
            start = time.perf_counter()
            scores = answer_scores(loaded.model, scored_sequences(tasks, args.views, args.max_tokens, loaded.vocab))
            row = {"model": model_path, "parameters": parameter_count(loaded.model), "suite": suite, **scores,
                   "seconds": round(time.perf_counter() - start, 1)}
            report["rows"].append(row)
            print(f"{model_path} | {suite}: {scores['nats_per_answer_token']:.3f} nats/token, "
                  f"{scores['token_accuracy']:.1%} tokens, {scores['argmax_exact_answers']}/{scores['answers']} "
                  f"exact ({row['seconds']} s)", flush=True)
    publish(args.name, report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
