"""`arcttt finetune`: flags map one-to-one onto FinetuneConfig fields."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    from .finetune import FinetuneConfig
    from .models import PRESETS

    d = FinetuneConfig()
    p.add_argument("--data", default=d.data, help="comma-separated training sources (bundled names or folders)")
    p.add_argument("--generated-per-family", type=int, default=0,
                   help="add N synthetic tasks per generator train family")
    p.add_argument("--generated-difficulty", default="0:1", help="LO:HI difficulty of synthetic tasks")
    p.add_argument("--eval-sets", default=d.eval_sets, help="sets training must not overlap ('' to skip the check)")
    p.add_argument("--drop-overlap", action="store_true", help="drop overlapping training tasks instead of refusing")
    p.add_argument("--size", default=d.size, choices=list(PRESETS), help="grid-LM preset for a new model")
    p.add_argument("--init", default=None, help="continue from this model folder")
    p.add_argument("--grow-layers", type=int, default=None,
                   help="with --init: deepen the model to N layers first (new layers start as identity)")
    p.add_argument("--merge-heads", type=int, default=None,
                   help="with --init: merge its attention heads into N wider ones first (cheaper attention on a CPU)")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--time-budget", type=float, default=None,
                   help="train for this many seconds (warmup and cosine decay follow the clock; --steps caps it)")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--grad-accum", type=int, default=d.grad_accum)
    p.add_argument("--max-tokens", type=int, default=d.max_tokens, help="longest training sequence")
    p.add_argument("--loss", default=d.loss, choices=["outputs", "query", "all"])
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--device", default=d.device)
    p.add_argument("--dtype", default=d.dtype, help="weights' dtype: auto, fp32, bf16 or fp16")
    p.add_argument("--mixed-bf16", action="store_true",
                   help="bf16 autocast over fp32 weights (mixed precision: faster on GPUs)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: one per core)")
    p.add_argument("--out", default=d.out, help="model folder to write (re-running resumes from its checkpoint)")
    p.add_argument("--quiet", action="store_true")


def run(args) -> int:
    from .errors import ArcTTTError
    from .finetune import FinetuneConfig, finetune

    try:
        lo, hi = (float(x) for x in args.generated_difficulty.split(":"))
    except ValueError:
        raise ArcTTTError(f"--generated-difficulty must be LO:HI, got '{args.generated_difficulty}'") from None
    config = FinetuneConfig(
        data=args.data, generated_per_family=args.generated_per_family, generated_difficulty=(lo, hi),
        eval_sets=args.eval_sets, drop_overlap=args.drop_overlap, size=args.size, init=args.init,
        grow_layers=args.grow_layers, merge_heads=args.merge_heads,
        steps=args.steps, time_budget=args.time_budget, lr=args.lr, batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        max_tokens=args.max_tokens, loss=args.loss, seed=args.seed, checkpoint_every=args.checkpoint_every,
        device=args.device, dtype=args.dtype, mixed_bf16=args.mixed_bf16, threads=args.threads, out=args.out)
    path = finetune(config, progress=not args.quiet)
    print(f"model written to {path}")
    return 0
