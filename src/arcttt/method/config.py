"""The method's settings: test-time data, test-time training and inference (torch-free).

Each field's default, choices and docstring are the one source of the matching
`arcttt solve` flag (`arcttt.cli.options` builds the flags from these classes).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data.codec import LOSS_MODES
from ..data.transforms import VOTING_NAMES
from ..fields import option

TTT_MODES = ("auto", "lora", "full", "shared", "none")
PRECISIONS = ("auto", "bf16", "fp32")
SAMPLERS = ("greedy", "dfs")
DRAFTS = ("auto", "on", "off")
SELECTIONS = ("hierarchical", "flat", "poe")
FULL_TTT_MAX_PARAMETERS = 5_000_000
"""Largest model that TTT mode 'auto' fine-tunes in full; larger ones get the paper's per-task LoRA."""


@dataclass
class TTTDataConfig:
    """How to build a task's test-time dataset (defaults follow the paper)."""

    transforms: str = "all"
    """Invertible transforms of the TTT data: all (8 symmetries + the paper's extra transforms),
    symmetries, none, or comma-separated names."""
    leave_one_out: bool = option(True, flag="--leave-one-out")
    """Leave-one-out tasks from the demonstrations; off: the 'end-to-end' ablation, plain
    input->output pairs with no context."""
    leave_two_out_below: int = 8
    """Add leave-two-out examples when leave-one-out gives fewer base examples than this."""
    colour_permutation: bool = True
    """A random colour permutation (see keep_black) on every TTT example."""
    keep_black: bool = True
    """Colour permutations keep colour 0 (the usual background) in place."""
    order_permutation: bool = True
    """A random demonstration order on every TTT example."""
    max_examples: int = 250
    """Cap on a task's TTT examples (a random subset is kept)."""
    max_tokens: int | None = 8192
    """Longest TTT sequence (never above the model's context)."""
    copies: int = 1
    """Independently augmented copies of each (base example, transform) before dedup and cap."""


@dataclass
class TTTConfig:
    """Test-time training settings (the paper's recipe, scaled for small grid LMs)."""

    mode: str = option("auto", flag="--ttt", choices=TTT_MODES)
    """Per-task LoRA reset in memory (lora, the paper), full fine-tuning of an in-memory copy (full),
    one adapter shared by all tasks (shared), no TTT (none); auto: full for models of at most
    5M parameters, else lora."""
    data: TTTDataConfig = option(default_factory=TTTDataConfig, prefix="ttt-")
    loss: str = option("outputs", choices=LOSS_MODES)
    """Which tokens the TTT loss covers: outputs = the paper's demonstration loss (every output but
    the first demonstration's, and the query's); query = the query output only; all tokens."""
    lr: float = 1e-3
    """Peak learning rate of TTT (AdamW, cosine schedule)."""
    epochs: float = 2.0
    """Passes over the task's TTT data."""
    max_steps: int | None = option(None, flag="--ttt-steps")
    """A fixed number of TTT steps (overrides epochs)."""
    batch_size: int = option(2, flag="--ttt-batch")
    """TTT sequences per step."""
    warmup_frac: float = 0.1
    """Share of the TTT steps spent warming the learning rate up."""
    lora_rank: int = option(32, flag="--lora-rank")
    """LoRA rank (the paper: 128 on 1B+ models)."""
    lora_alpha: int = option(32, flag="--lora-alpha")
    """LoRA scale numerator (the paper: 16)."""
    lora_dropout: float = option(0.0, flag="--lora-dropout")
    """Dropout on the LoRA path."""
    target_modules: tuple[str, ...] = option(("q_proj", "v_proj", "gate_proj", "up_proj", "down_proj", "lm_head"),
                                             flag="--lora-targets")
    """Modules that get LoRA adapters (comma-separated): attention q/v, the MLP and the output layer."""
    merged_lora: bool = option(True, flag="--merged-lora")
    """Train LoRA layers through their merged weight where that costs fewer FLOPs (arcttt.fast.lora_merge;
    the same values in another order of float operations); off: PEFT's low-rank path everywhere."""
    precision: str = option("auto", choices=PRECISIONS)
    """bf16: mixed precision (bf16 autocast, fp32 adapters and optimizer); fp32; auto: bf16 where the
    hardware runs it natively, else fp32. Inference is not affected."""


@dataclass
class InferenceConfig:
    """Augmented inference: which views of a task are decoded, and how."""

    transforms: tuple[str, ...] = option(VOTING_NAMES, flag="--infer-transforms")
    """Transforms of the voting set, comma-separated (the paper: identity, rotations, flips, transpose)."""
    orders: int = option(2, flag="--orders")
    """Demonstration orders per transform: the original, then random permutations."""
    colours: int = option(3, flag="--infer-colours")
    """Colour-permuted copies (black kept) of each transform and order: views = transforms x orders x
    (1 + colours); 0 decodes the paper's views only. The default was chosen on select40 with --voting poe
    (docs/results.md). With --task-seconds these copies are decoded last, as far as the budget goes."""
    batch_size: int = option(16, flag="--infer-batch")
    """Prompts decoded together."""
    max_positions: int | None = option(None, flag="--max-positions")
    """Context limit of inference (default: the model's)."""
    sampler: str = option("greedy", flag="--sampler", choices=SAMPLERS)
    """greedy: one constrained greedy decode per view (batched); dfs: depth-first sampling, every grid
    completion of a view with probability >= dfs_threshold becomes a candidate."""
    dfs_threshold: float = option(0.1, flag="--dfs-threshold")
    """Minimum probability of a DFS completion."""
    dfs_max_results: int = option(8, flag="--dfs-max-results")
    """At most this many DFS completions per view."""
    drafts: str = option("auto", flag="--drafts", choices=DRAFTS)
    """on: greedy decoding checks symbols copied from the query input (or the row above) several at a
    time, prompts of one length together (arcttt.fast.draft_decode): the same outputs in fewer forward
    passes. off: one batched step per token. auto: on for the CPU, where a forward pass costs its
    memory traffic; off on a GPU, where it costs kernel launches and plain batching wins (docs/performance.md)."""


@dataclass
class GridLMConfig:
    """Size of a grid LM (Llama architecture, untied embeddings so LoRA can target lm_head)."""

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 4
    intermediate_size: int = 384
    max_positions: int = 8192
    rope_theta: float = 10000.0


# Presets from ~0.8M to ~100M parameters; pick by the machine's measured throughput.
# h192x4 and h256x4 (hidden x layers) use 64-wide heads: on a CPU, attention with head_dim 64 costs
# less per hidden unit than with 32, so they are wider than tiny at a modest price in TTT seconds.
PRESETS = {
    "nano": GridLMConfig(64, 2, 2, 2, 192),
    "tiny": GridLMConfig(128, 4, 4, 4, 384),
    "h192x4": GridLMConfig(192, 4, 3, 3, 576),
    "h256x4": GridLMConfig(256, 4, 4, 4, 768),
    "small": GridLMConfig(192, 6, 6, 6, 576),
    "base": GridLMConfig(320, 8, 8, 8, 960),
    "medium": GridLMConfig(512, 12, 8, 8, 1536),
    "large": GridLMConfig(768, 14, 12, 12, 2560),
}
