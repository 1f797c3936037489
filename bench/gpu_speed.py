"""Seconds per task of test-time training and augmented inference, for the default model and a 1B-class one.

Models measured:
- ``default``: the shipped default model when present, else a freshly built tiny grid LM;
- ``llama1b-grid``: a randomly initialised model with Llama-3.2-1B's architecture
  (hidden 2048, 16 layers, 32 heads, 8 KV heads, intermediate 8192) over the grid
  vocabulary (16 tokens instead of 128256): the same compute per token except the
  embedding and output layer (about 0.5 GFLOP/token of 2.5 less), no download.
  Weights are random, so the decoded grids are meaningless; only timings matter.

TTT runs a fixed number of steps (--ttt-steps) and reports seconds per step and
the extrapolated time of the paper's full schedule (2 epochs over the task's
test-time dataset, batch 2). Inference is timed end to end (greedy, grid-constrained,
all augmented views). Everything is measured in memory (no checkpoint written).

    python bench/gpu_speed.py --out bench/results/gpu_smoke_$(hostname).json   # on a GPU
    python bench/gpu_speed.py --dry-run                                      # CPU, seconds
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch

from arcttt.data.codec import GRID_VOCAB
from arcttt.errors import ArcTTTError
from arcttt.method.config import InferenceConfig, TTTConfig, TTTDataConfig
from arcttt.method.inference import predict
from arcttt.method.models import GridLMConfig, LoadedModel, build_grid_lm, load_model, parameter_count, pick_dtype
from arcttt.method.ttt import TaskAdapter
from arcttt.models import DEFAULT_MODEL, resolve_model

LLAMA_1B = GridLMConfig(hidden_size=2048, num_layers=16, num_heads=32, num_kv_heads=8, intermediate_size=8192,
                        max_positions=8192, rope_theta=500000.0)
# --tiny stand-in for the 1B shape (same head layout ratios, CPU-sized)
LLAMA_1B_TINY = GridLMConfig(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2, intermediate_size=256,
                             max_positions=8192)


def gpu_info() -> dict:
    info = {"hostname": socket.gethostname(), "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        info["nvidia_smi"] = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    except (OSError, subprocess.TimeoutExpired):
        info["nvidia_smi"] = []
    if torch.cuda.is_available():
        info["device_name"] = torch.cuda.get_device_name(0)
    return info


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_loaded(name: str, device: torch.device, dtype: torch.dtype, tiny: bool) -> LoadedModel:
    if name == "default":
        path = resolve_model(DEFAULT_MODEL)
        if not tiny:
            return load_model(path, str(device), {torch.bfloat16: "bf16", torch.float32: "fp32"}[dtype])
        model = build_grid_lm("nano" if tiny else "tiny", seed=0)
        source = "fresh grid LM (nano)" if tiny else "fresh grid LM (tiny)"
    elif name == "llama1b-grid":
        model = build_grid_lm(LLAMA_1B_TINY if tiny else LLAMA_1B, seed=0)
        source = "random Llama-3.2-1B architecture, grid vocabulary" + (" (tiny stand-in)" if tiny else "")
    else:
        raise ArcTTTError(f"unknown model '{name}'")
    model.to(device=device, dtype=dtype).eval()
    return LoadedModel(model, GRID_VOCAB, source, device, dtype)


def load_tasks(n: int, tiny: bool):
    if tiny:
        from arcttt.train.generators import generate_task

        return [generate_task(f, i, 0.0, n_train=3).without_solutions()
                for i, f in enumerate(("flip", "colour_map", "transpose", "rotate")[:n])]
    from arcttt.data.datasets import load_dataset

    return [t.without_solutions() for t in load_dataset("arc1/eval", "dev80").tasks[:n]]


def measure(name: str, args, device: torch.device, dtype: torch.dtype) -> dict:
    t0 = time.perf_counter()
    loaded = build_loaded(name, device, dtype, args.tiny)
    sync(device)
    out = {"model": name, "source": loaded.path, "parameters": parameter_count(loaded.model),
           "dtype": str(dtype).replace("torch.", ""), "load_s": round(time.perf_counter() - t0, 2), "tasks": []}
    ttt = TTTConfig(mode="lora", lr=args.lr, max_steps=args.ttt_steps, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha,
                    batch_size=2, data=TTTDataConfig(max_examples=args.max_examples))
    inf = InferenceConfig(orders=args.orders, batch_size=args.infer_batch, drafts=args.drafts)
    if args.transforms:
        inf.transforms = tuple(t.strip() for t in args.transforms.split(",") if t.strip())
    adapter = TaskAdapter(loaded, ttt, seed=0)
    for task in load_tasks(args.tasks, args.tiny):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        row: dict = {"task_id": task.id}
        try:
            examples = len(adapter.task_dataset(task))
            sync(device)
            t = time.perf_counter()
            report = adapter.adapt(task)
            sync(device)
            ttt_s = time.perf_counter() - t
            t = time.perf_counter()
            with adapter.folded() as model:
                cands = predict(model, loaded.vocab, task, inf, seed=0)
                sync(device)
                inference_s = time.perf_counter() - t
                if args.compare_drafts:  # the same greedy outputs, one batched step per token
                    t = time.perf_counter()
                    predict(model, loaded.vocab, task, dataclasses.replace(inf, drafts="off"), seed=0)
                    sync(device)
                    row["inference_no_drafts_s"] = round(time.perf_counter() - t, 3)
            row.update(examples=examples, ttt_steps=report.steps, ttt_tokens=report.tokens, ttt_s=round(ttt_s, 3),
                       s_per_step=round(ttt_s / max(report.steps, 1), 4),
                       full_ttt_steps=math.ceil(2 * examples / 2),
                       inference_s=round(inference_s, 3),
                       candidates=sum(len(c) for c in cands))
            row["full_ttt_s_estimate"] = round(row["s_per_step"] * row["full_ttt_steps"], 1)
            if device.type == "cuda":
                row["peak_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        except (ArcTTTError, torch.cuda.OutOfMemoryError) as e:
            row["error"] = f"{type(e).__name__}: {e}"
        finally:
            adapter.reset()
        out["tasks"].append(row)
        print(json.dumps(row), flush=True)
    ok = [r for r in out["tasks"] if "error" not in r]
    if ok:
        out["mean"] = {k: round(sum(r[k] for r in ok) / len(ok), 3)
                       for k in ("ttt_s", "s_per_step", "inference_s", "full_ttt_s_estimate")}
    del adapter, loaded
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--models", default="default,llama1b-grid")
    p.add_argument("--tasks", type=int, default=3, help="tasks per model (ARC-1 eval dev80, or generated with --tiny)")
    p.add_argument("--ttt-steps", type=int, default=20)
    p.add_argument("--max-examples", type=int, default=250)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--lora-rank", type=int, default=128)
    p.add_argument("--lora-alpha", type=int, default=16)
    p.add_argument("--orders", type=int, default=2)
    p.add_argument("--infer-batch", type=int, default=16)
    p.add_argument("--transforms", default=None, help="comma-separated voting transforms (default: the paper's 7)")
    p.add_argument("--drafts", default="auto", choices=["auto", "on", "off"], help="draft decoding (InferenceConfig)")
    p.add_argument("--compare-drafts", action="store_true", help="also time inference with drafts off")
    p.add_argument("--tiny", action="store_true", help="CPU-sized stand-ins for both models and generated tasks")
    p.add_argument("--dry-run", action="store_true", help="= --device cpu --tiny --tasks 1 --ttt-steps 2, identity view only")
    p.add_argument("--pytest-rc", type=int, default=None, help="exit status of the GPU tests, stored in the JSON")
    p.add_argument("--out", default=None, help="JSON file (default: print only)")
    args = p.parse_args(argv)
    if args.dry_run:
        args.device, args.tiny, args.tasks, args.ttt_steps, args.max_examples = "cpu", True, 1, 2, 8
        args.lora_rank, args.orders, args.transforms = 8, 1, "identity"
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    dtype = pick_dtype(device)
    result = {"machine": gpu_info(), "device": str(device), "settings": {k: v for k, v in vars(args).items()
                                                                         if k not in ("out", "pytest_rc")},
              "pytest_rc": args.pytest_rc, "models": []}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        result["models"].append(measure(name, args, device, dtype))
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
