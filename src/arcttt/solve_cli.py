"""`arcttt solve`: flags map one-to-one onto SolveConfig / TTTConfig / InferenceConfig fields."""

from __future__ import annotations

import argparse
import json

from .errors import ArcTTTError


def configure(p: argparse.ArgumentParser) -> None:
    from .solve import SolveConfig
    from .ttt import TTT_MODES, TTTConfig

    d, t = SolveConfig(), TTTConfig()
    p.add_argument("--dataset", default=d.dataset, help="bundled name, folder, task file or Kaggle challenges file")
    p.add_argument("--tasks", default=None, help="subset: dev80, a CSV with task_id, or comma-separated ids")
    p.add_argument("--model", default=d.model, help="model folder (grid LM or any local HF causal LM)")
    p.add_argument("--gguf-file", default=None, help="GGUF file name inside --model (e.g. SmolLM2)")
    p.add_argument("--out", default=d.out, help="run directory (re-running resumes it)")
    p.add_argument("--max-tasks", type=int, default=None, help="solve only the first N selected tasks")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--dtype", default=d.dtype, help="auto (bf16 on CUDA, fp32 on CPU), fp32, bf16")
    p.add_argument("--executor", default=d.executor, choices=["serial", "processes", "ray"],
                   help="processes: --workers local processes (e.g. 2 single-threaded ones on 2 cores)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of --executor processes")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: one per core; use 1 on a machine busy with other jobs)")
    p.add_argument("--voting", default=d.voting, choices=["hierarchical", "flat", "poe"],
                   help="poe: product of experts over the top candidates (rescored under every view)")
    p.add_argument("--poe-candidates", type=int, default=d.poe_candidates)
    g = p.add_argument_group("test-time training")
    g.add_argument("--ttt", default=t.mode, choices=TTT_MODES,
                   help="auto (full for models up to 5M parameters, else lora), per-task LoRA, full copy, "
                        "one shared adapter, none")
    g.add_argument("--no-ttt", action="store_const", dest="ttt", const="none", help="same as --ttt none")
    g.add_argument("--ttt-lr", type=float, default=t.lr)
    g.add_argument("--ttt-epochs", type=float, default=t.epochs)
    g.add_argument("--ttt-steps", type=int, default=None, help="fixed number of steps (overrides epochs)")
    g.add_argument("--ttt-batch", type=int, default=t.batch_size)
    g.add_argument("--lora-rank", type=int, default=t.lora_rank)
    g.add_argument("--lora-alpha", type=int, default=t.lora_alpha)
    g.add_argument("--ttt-precision", default=t.precision, choices=["auto", "bf16", "fp32"],
                   help="bf16 = mixed precision; auto = bf16 where the CPU/GPU runs it natively, else fp32")
    g.add_argument("--no-merged-lora", action="store_true",
                   help="train LoRA through PEFT's low-rank path everywhere (default: through the merged "
                        "weight where that costs fewer FLOPs; same values)")
    g.add_argument("--ttt-loss", default=t.loss, choices=["outputs", "query", "all"],
                   help="outputs = the paper's demonstration loss")
    g.add_argument("--ttt-transforms", default=t.data.transforms, help="all, symmetries, none, or names")
    g.add_argument("--no-leave-one-out", action="store_true", help="ablation: plain input->output pairs")
    g.add_argument("--ttt-max-examples", type=int, default=t.data.max_examples)
    g.add_argument("--ttt-max-tokens", type=int, default=t.data.max_tokens)
    i = p.add_argument_group("inference")
    i.add_argument("--orders", type=int, default=2, help="demonstration orders per transform")
    i.add_argument("--infer-transforms", default=None, help="comma-separated voting transforms (default: paper's 7)")
    i.add_argument("--infer-batch", type=int, default=16)
    i.add_argument("--sampler", default="greedy", choices=["greedy", "dfs"],
                   help="greedy decoding per view, or depth-first sampling of every completion above --dfs-threshold")
    i.add_argument("--dfs-threshold", type=float, default=0.1, help="minimum probability of a DFS completion")
    i.add_argument("--drafts", default="auto", choices=["auto", "on", "off"],
                   help="greedy decoding checks drafts copied from the query input (same outputs); auto: on for CPU")
    p.add_argument("--ray-address", default=None, help="existing Ray cluster (default: start a local one)")
    p.add_argument("--gpus-per-task", type=float, default=0.0)
    p.add_argument("--cpus-per-task", type=float, default=1.0, help="also the torch threads of each Ray worker")
    p.add_argument("--ray-retries", type=int, default=2, help="re-runs of a task whose Ray worker process died")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def config_from_args(args):
    from .inference import InferenceConfig
    from .solve import SolveConfig
    from .ttt import TTTConfig
    from .ttt_data import TTTDataConfig

    data = TTTDataConfig(transforms=args.ttt_transforms, leave_one_out=not args.no_leave_one_out,
                         max_examples=args.ttt_max_examples, max_tokens=args.ttt_max_tokens)
    ttt = TTTConfig(mode=args.ttt, data=data, loss=args.ttt_loss, lr=args.ttt_lr, epochs=args.ttt_epochs,
                    max_steps=args.ttt_steps, batch_size=args.ttt_batch, lora_rank=args.lora_rank,
                    lora_alpha=args.lora_alpha, precision=args.ttt_precision, merged_lora=not args.no_merged_lora)
    inf = InferenceConfig(orders=args.orders, batch_size=args.infer_batch, sampler=args.sampler,
                          dfs_threshold=args.dfs_threshold, drafts=args.drafts)
    if args.infer_transforms:
        inf.transforms = tuple(s.strip() for s in args.infer_transforms.split(",") if s.strip())
    return SolveConfig(dataset=args.dataset, tasks=args.tasks, model=args.model, out=args.out,
                       gguf_file=args.gguf_file, seed=args.seed, device=args.device, dtype=args.dtype,
                       voting=args.voting, poe_candidates=args.poe_candidates, max_tasks=args.max_tasks,
                       ttt=ttt, inference=inf,
                       executor=args.executor, threads=args.threads)


def run(args) -> int:
    from .executors import make_executor
    from .scoring import format_score, Score
    from .solve import solve_dataset

    config = config_from_args(args)
    options = {}
    if args.executor == "processes":
        options = {"workers": args.workers}
    if args.executor == "ray":
        options = {"address": args.ray_address, "gpus_per_task": args.gpus_per_task,
                   "cpus_per_task": args.cpus_per_task, "max_retries": args.ray_retries}
    summary = solve_dataset(config, progress=not args.quiet, executor=make_executor(args.executor, **options))
    print(f"run directory: {config.out}")
    print(f"tasks: {summary['finished']}/{summary['tasks']} finished, {len(summary['failed'])} failed")
    if "seconds_per_task" in summary:
        print(f"seconds per task: median {summary['seconds_per_task']['median']}")
    if "score" in summary:
        s = Score(**{k: v for k, v in summary["score"].items() if k in Score.__dataclass_fields__})
        print(format_score(s))
    else:
        print("no solutions known: submission.json written, not scored")
    if summary["finished"] < summary["tasks"]:
        raise ArcTTTError(f"{summary['tasks'] - summary['finished']} tasks unfinished; re-run to resume")
    return 0


def dump(summary: dict) -> str:
    return json.dumps(summary, indent=1)
