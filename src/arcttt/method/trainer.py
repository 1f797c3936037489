"""The one training loop, shared by initial fine-tuning and per-task test-time training.

Sequences arrive already encoded by the codec (ids + loss mask). Batches are
length-bucketed so that padding stays small; the loss is the mean
cross-entropy over masked target tokens. AdamW, cosine schedule with linear
warmup, gradient accumulation and clipping; a non-finite loss stops training
with TrainingError. With a checkpoint directory, the loop saves its full state
periodically and a restarted call resumes from the last checkpoint.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..data.codec import Encoded
from ..errors import ArcTTTError
from ..fast.short_attention import fp32_short_attention


class TrainingError(ArcTTTError):
    """Training could not go on (e.g. the loss became NaN or infinite)."""


@dataclass
class TrainConfig:
    lr: float = 1e-4
    epochs: float = 2.0
    """Passes over the examples (fractions allowed); ignored when max_steps is set."""
    max_steps: int | None = None
    max_seconds: float | None = None
    """Stop after this much training time; warmup and cosine decay then follow the elapsed fraction of
    it instead of steps, so a fixed time budget (a GPU lease) still ends at the minimum learning rate."""
    batch_size: int = 2
    """Sequences per micro-batch."""
    grad_accum: int = 1
    warmup_frac: float = 0.1
    weight_decay: float = 0.0
    clip: float = 1.0
    betas: tuple[float, float] = (0.9, 0.999)
    min_lr_frac: float = 0.0
    seed: int = 0
    checkpoint_every: int = 0
    """Save the training state every N optimizer steps (0: never); needs a checkpoint dir."""
    progress: bool = False
    desc: str = "train"
    autocast_bf16: bool = False
    """Forward passes under torch.autocast(bfloat16): matmuls and attention in bf16, weights, gradients
    and optimizer state stay in their own dtype (mixed precision)."""


@dataclass
class TrainResult:
    steps: int = 0
    tokens: int = 0
    target_tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    """Mean loss of each optimizer step."""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffle, sort by length inside windows of 16 batches, cut batches, shuffle batches: little padding."""
    order = rng.permutation(len(lengths))
    window = batch_size * 16
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(examples: Sequence[Encoded], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded input ids, attention mask and next-token target mask."""
    n = max(len(e) for e in examples)
    ids = np.full((len(examples), n), pad_id, dtype=np.int64)
    attn = np.zeros((len(examples), n), dtype=np.int64)
    target = np.zeros((len(examples), n), dtype=bool)
    for i, e in enumerate(examples):
        ids[i, : len(e)] = e.ids
        attn[i, : len(e)] = 1
        target[i, : len(e)] = e.loss_mask
    return (torch.from_numpy(ids).to(device), torch.from_numpy(attn).to(device), torch.from_numpy(target).to(device))


def _right_padded(attn: torch.Tensor) -> bool:
    """True when every row is ones then zeros (collate's layout): a causal LM then never attends to padding."""
    if attn.dtype == torch.bool:
        attn = attn.long()
    if bool(attn.all()):
        return True
    return bool((attn[:, 1:] <= attn[:, :-1]).all())


def _accepts_logits_to_keep(model) -> bool:
    """Whether the model's forward takes `logits_to_keep` (HF causal LMs, also through PEFT)."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        return "logits_to_keep" in inspect.signature(base.forward).parameters
    except (TypeError, ValueError):
        return False


def sequence_loss(model, ids: torch.Tensor, attn: torch.Tensor, target: torch.Tensor,
                  reduction: str = "sum") -> tuple[torch.Tensor, int]:
    """Cross-entropy of the masked target tokens given their prefixes: (loss, number of targets).

    Fast path (same values): with right padding a causal LM needs no attention mask (real tokens never
    see the pads behind them), which lets SDPA use its causal kernel instead of an explicit mask; and
    the LM head is applied only at positions that predict a target (`logits_to_keep`), which matters
    for models with large vocabularies.
    """
    mask = target[:, 1:]
    labels = ids[:, 1:]
    kwargs = {"input_ids": ids, "attention_mask": None if _right_padded(attn) else attn}
    if _accepts_logits_to_keep(model):
        # positions t whose next token t+1 is a target in some row of the batch
        keep = mask.any(0).nonzero().flatten()
        logits = model(**kwargs, logits_to_keep=keep).logits  # [B, P, V]
        picked = logits[mask[:, keep]].float()
        gold = labels[:, keep][mask[:, keep]]
    else:
        logits = model(**kwargs).logits[:, :-1]
        picked = logits[mask].float()
        gold = labels[mask]
    loss = F.cross_entropy(picked, gold, reduction=reduction)
    return loss, int(mask.sum())


def make_optimizer(params: list[torch.nn.Parameter], config: "TrainConfig") -> torch.optim.Optimizer:
    """AdamW, fused into one kernel where torch has it for these parameters (fp32 on CPU or CUDA): the
    per-tensor loop costs about 2 ms a step for the ~50 LoRA tensors of a small model."""
    fused = all(p.dtype == torch.float32 and p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay,
                             fused=fused or None)


def _cosine_decay(progress: float, min_frac: float) -> float:
    """From 1 at progress 0 down to min_frac at progress >= 1."""
    return min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def cosine_lr(step: int, total: int, warmup: int, min_frac: float) -> float:
    """Multiplier of the peak learning rate at an optimizer step."""
    if step < warmup:
        return (step + 1) / warmup
    return _cosine_decay((step - warmup) / max(1, total - warmup), min_frac)


def time_lr(fraction: float, warmup_frac: float, min_frac: float) -> float:
    """Multiplier of the peak learning rate after `fraction` of a time budget."""
    if fraction < warmup_frac:
        return min(1.0, (fraction + 1e-3) / warmup_frac)
    return _cosine_decay((fraction - warmup_frac) / max(1e-9, 1 - warmup_frac), min_frac)


def _state_path(checkpoint_dir: Path) -> Path:
    return checkpoint_dir / "trainer_state.pt"


def train(model, examples: Sequence[Encoded] | Callable[[int], Sequence[Encoded]], config: TrainConfig,
          pad_id: int, params: list[torch.nn.Parameter] | None = None,
          checkpoint_dir: str | Path | None = None,
          on_checkpoint: Callable[[int], None] | None = None) -> TrainResult:
    """Train `params` (default: all trainable) of `model` on encoded sequences.

    `examples` is a list, or a function epoch -> list for data re-sampled every epoch
    (fresh augmentations in fine-tuning). Deterministic for a given config.seed.
    """
    device = next(model.parameters()).device
    params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("nothing to train: no parameter requires grad")
    get_epoch = examples if callable(examples) else (lambda _epoch: examples)
    first = get_epoch(0)
    if not first:
        raise TrainingError("no training examples")
    micro_per_epoch = math.ceil(len(first) / config.batch_size)
    steps_per_epoch = math.ceil(micro_per_epoch / config.grad_accum)  # the last group may be short
    # a time budget without max_steps has no step total: the clock ends training and drives the schedule
    total = config.max_steps or (None if config.max_seconds else max(1, round(config.epochs * steps_per_epoch)))
    warmup = max(1, round(config.warmup_frac * total)) if total and config.warmup_frac > 0 else 0
    result = TrainResult()

    def multiplier(step: int) -> float:
        if config.max_seconds:
            return time_lr(result.seconds / config.max_seconds, config.warmup_frac, config.min_lr_frac)
        return cosine_lr(step, total, warmup, config.min_lr_frac)

    opt = make_optimizer(params, config)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, multiplier)
    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    if ckpt and _state_path(ckpt).exists():
        state = torch.load(_state_path(ckpt), map_location=device, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        result = state["result"]

    model.train()
    bar = None
    if config.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=result.steps, desc=config.desc, unit="step", dynamic_ncols=True)
    precision = torch.autocast(device.type, dtype=torch.bfloat16) if config.autocast_bf16 else nullcontext()
    start = time.perf_counter() - result.seconds
    with fp32_short_attention(model):  # short CPU batches: fp32 attention is the faster kernel
        for micro_batches in _micro_batch_stream(get_epoch, config, result.steps * config.grad_accum):
            if (total and result.steps >= total) or (config.max_seconds and result.seconds >= config.max_seconds):
                break
            opt.zero_grad(set_to_none=True)
            group = micro_batches
            n_targets = sum(int(e.loss_mask[1:].sum()) for batch in group for e in batch)
            step_loss = 0.0
            for batch in group:
                ids, attn, target = collate(batch, pad_id, device)
                with precision:
                    loss_sum, _ = sequence_loss(model, ids, attn, target)
                loss = loss_sum / max(1, n_targets)
                if not torch.isfinite(loss):
                    raise TrainingError(f"loss is {loss.item()} at step {result.steps}")
                loss.backward()
                step_loss += loss.item()
                result.tokens += int(attn.sum())
            result.target_tokens += n_targets
            if config.clip:
                torch.nn.utils.clip_grad_norm_(params, config.clip)
            opt.step()
            sched.step()
            result.steps += 1
            result.losses.append(step_loss)
            result.seconds = time.perf_counter() - start
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{step_loss:.3f}", tok_s=f"{result.tokens_per_second:,.0f}")
            if ckpt and config.checkpoint_every and result.steps % config.checkpoint_every == 0:
                _save_state(ckpt, model, opt, sched, result)
                if on_checkpoint:
                    on_checkpoint(result.steps)
    if bar is not None:
        bar.close()
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def _micro_batch_stream(get_epoch, config: TrainConfig, skip_micro: int) -> Iterator[list[list[Encoded]]]:
    """Groups of `grad_accum` micro-batches, epoch after epoch, skipping those already trained on."""
    epoch = 0
    seen = 0
    while True:
        data = get_epoch(epoch)
        rng = np.random.default_rng([config.seed, epoch])
        batches = bucketed_batches([len(e) for e in data], config.batch_size, rng)
        for g in range(0, len(batches), config.grad_accum):
            seen += config.grad_accum
            if seen <= skip_micro:
                continue
            yield [[data[i] for i in b] for b in batches[g:g + config.grad_accum]]
        epoch += 1


def _save_state(ckpt: Path, model, opt, sched, result: TrainResult) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    trainable = {k: v for k, v in model.state_dict().items()}
    tmp = ckpt / "trainer_state.pt.tmp"
    torch.save({"model": trainable, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "result": result}, tmp)
    tmp.replace(_state_path(ckpt))
