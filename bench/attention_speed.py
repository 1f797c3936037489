"""Attention forward + backward on this CPU, as the two sides of bench/speed.py run it in TTT.

    python bench/attention_speed.py [--length 1100] [--batch 2] [--threads 1]

(a) the baseline: fp32, an explicit (padding) mask, so SDPA cannot take its causal shortcut;
(b) arcttt: bf16 (what autocast hands SDPA; fp32 below arcttt.fast.short_attention.FP32_BELOW tokens), no
mask, `is_causal=True` (right padding needs none); plus
SDPA's math path and other head splits of the same width (128) for reference. Median of
--repeats runs each. Writes bench/results/attention_speed.json and attention_speed.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from arcttt.fast.short_attention import FP32_BELOW
from arcttt.method.scoring import write_json_atomic

RESULTS = Path(__file__).parent / "results"


def time_attention(batch: int, heads: int, length: int, head_dim: int, dtype, masked: bool, math: bool,
                   repeats: int) -> tuple[float, float]:
    """Median milliseconds of one forward and one backward."""
    q, k, v = (torch.randn(batch, heads, length, head_dim, dtype=dtype, requires_grad=True) for _ in range(3))
    mask = torch.ones(length, length, dtype=torch.bool).tril()[None, None].expand(batch, 1, length, length)
    backend = SDPBackend.MATH if math else SDPBackend.FLASH_ATTENTION
    fwd, bwd = [], []
    for _ in range(repeats + 1):
        with sdpa_kernel(backend):
            t0 = time.perf_counter()
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask if masked else None, is_causal=not masked)
            t1 = time.perf_counter()
            out.float().sum().backward()
            t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
    return statistics.median(fwd[1:]) * 1e3, statistics.median(bwd[1:]) * 1e3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--length", type=int, default=1100)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    short = args.length < FP32_BELOW  # arcttt's training loop attends in fp32 there (arcttt.fast.short_attention)
    arcttt_dtype = torch.float32 if short else torch.bfloat16
    cases = [  # name, heads, head_dim, dtype, masked, math path
        ("(a) baseline: fp32, explicit mask", 4, 32, torch.float32, True, False),
        (f"(b) arcttt: {'fp32' if short else 'bf16'}, causal flash", 4, 32, arcttt_dtype, False, False),
        ("fp32, causal flash", 4, 32, torch.float32, False, False),
        ("bf16, math path, explicit mask", 4, 32, torch.bfloat16, True, True),
        ("bf16, causal flash, 2 heads of 64", 2, 64, torch.bfloat16, False, False),
    ]
    rows = []
    for name, heads, dim, dtype, masked, math in cases:
        fwd, bwd = time_attention(args.batch, heads, args.length, dim, dtype, masked, math, args.repeats)
        rows.append({"case": name, "heads": heads, "head_dim": dim, "forward_ms": fwd, "backward_ms": bwd,
                     "total_ms": fwd + bwd})
        print(f"{name}: forward {fwd:.1f} ms, backward {bwd:.1f} ms", flush=True)
    ratio = rows[0]["total_ms"] / rows[1]["total_ms"]
    report = {"batch": args.batch, "length": args.length, "threads": args.threads, "torch": torch.__version__,
              "rows": rows, "ratio_a_b": ratio}
    RESULTS.mkdir(exist_ok=True)
    write_json_atomic(RESULTS / "attention_speed.json", report)
    lines = ["| case | forward ms | backward ms | total ms |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {r['forward_ms']:.1f} | {r['backward_ms']:.1f} | {r['total_ms']:.1f} |" for r in rows]
    lines += ["", f"One attention layer (4 heads x 32 unless named), batch {args.batch}, {args.length} tokens, "
              f"{args.threads} thread(s), torch {torch.__version__}; (a)/(b) x{ratio:.2f}.", "",
              f"Reproduce: `python bench/attention_speed.py --length {args.length} --batch {args.batch} "
              f"--threads {args.threads}`", ""]
    (RESULTS / "attention_speed.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
