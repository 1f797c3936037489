"""Initial fine-tuning: teach a causal LM ARC-like tasks before any test-time training.

Training data: ARC training tasks (and synthetic tasks from the generator's train
families), every pair usable as a query, freshly augmented each epoch (a random
symmetry, colour permutation and demonstration order). Before training, the pool
is checked against every evaluation set named: a shared task id or an identical
(input, output) pair refuses the run (or, asked to, drops those tasks).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from ..data.codec import GRID_VOCAB, LOSS_MODES, Encoded, encode, sequence_length
from ..data.datasets import load
from ..data.tasks import Task, grid_key
from ..data.transforms import SYMMETRY_NAMES, compose, parse, random_colour_permutation
from ..errors import ArcTTTError
from ..fields import option
from ..method.config import PRESETS
from ..models import resolve_model
from ..seeding import rng_for


class ContaminationError(ArcTTTError):
    """Training data overlaps an evaluation set."""


@dataclass
class FinetuneConfig:
    """Initial fine-tuning of a grid LM (or any local causal LM) on ARC-like tasks."""

    data: str = "arc1/train"
    """Comma-separated training sources: bundled names or folders of task JSON."""
    generated_per_family: int = 0
    """Synthetic tasks per generator train family (0: none)."""
    generated_difficulty: tuple[float, float] = option((0.0, 1.0), metavar="LO:HI")
    """Difficulty range of the synthetic tasks, spread evenly over each family's tasks."""
    eval_sets: str = "arc1/eval,arc2/eval"
    """Evaluation sets that training data must not overlap (by task id or identical pair); '' skips the check."""
    drop_overlap: bool = False
    """Drop overlapping training tasks instead of refusing to train."""
    size: str = option("tiny", choices=tuple(PRESETS))
    """Grid-LM preset for a new model (ignored with --init)."""
    init: str | None = None
    """Start from this model folder (or shipped model name) instead of a random grid LM."""
    grow_layers: int | None = None
    """With --init: deepen the model to this many layers first, keeping its function (arcttt.train.grow)."""
    merge_heads: int | None = None
    """With --init: merge its attention heads into this many wider ones first (cheaper attention on a CPU;
    the model must then be trained further)."""
    steps: int = 2000
    """Optimizer steps (a cap when --time-budget is given)."""
    time_budget: float | None = None
    """Seconds of training: warmup and cosine decay follow the clock (e.g. a GPU lease)."""
    lr: float = 1e-3
    """Peak learning rate (AdamW, cosine schedule)."""
    batch_size: int = 8
    """Sequences per step."""
    grad_accum: int = 1
    """Micro-batches accumulated per optimizer step."""
    warmup_frac: float = 0.05
    """Share of the steps spent warming the learning rate up."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    max_tokens: int = 2048
    """Longest training sequence (demonstrations are dropped from the context until it fits)."""
    loss: str = option("outputs", choices=LOSS_MODES)
    """Which tokens the loss covers (outputs: every output but the first demonstration's)."""
    seed: int = 0
    """Seed of the synthetic tasks, the augmentations and the initial weights."""
    checkpoint_every: int = 200
    """Steps between checkpoints (a rerun resumes from the last one)."""
    device: str = "auto"
    """auto (CUDA when present, else CPU), cpu, cuda ..."""
    dtype: str = "auto"
    """Weights' dtype: auto, fp32, bf16 or fp16."""
    mixed_bf16: bool = False
    """Forward passes under bf16 autocast with fp32 weights (mixed precision; for GPUs)."""
    threads: int | None = None
    """Torch CPU threads (default: one per core)."""
    out: str = "models/arcttt-custom"
    """Model folder to write (re-running resumes from its checkpoint)."""
    extra: dict = option(default_factory=dict, cli=False)


def pair_keys(tasks: Sequence[Task]) -> set[tuple]:
    return {(grid_key(p.input), grid_key(p.output)) for t in tasks for p in t.train + t.test if p.output is not None}


def overlap(train: Sequence[Task], evaluation: Sequence[Task]) -> dict[str, str]:
    """Training task id -> why it overlaps the evaluation tasks (same id or an identical pair)."""
    eval_ids = {t.id for t in evaluation}
    eval_pairs = pair_keys(evaluation)
    bad = {}
    for t in train:
        if t.id in eval_ids:
            bad[t.id] = "same task id as an evaluation task"
        elif pair_keys([t]) & eval_pairs:
            bad[t.id] = "an (input, output) pair identical to one in an evaluation task"
    return bad


def load_eval_tasks(spec: str) -> list[Task]:
    tasks: list[Task] = []
    for s in filter(None, (x.strip() for x in spec.split(","))):
        tasks += load(s).tasks
    return tasks


def training_pool(config: FinetuneConfig) -> tuple[list[Task], dict]:
    """Training tasks after the contamination check, and a record of what was used."""
    tasks: list[Task] = []
    for s in filter(None, (x.strip() for x in config.data.split(","))):
        tasks += load(s).tasks
    n_generated = 0
    if config.generated_per_family:
        from .generators import generate_many, list_families

        fams = [f.name for f in list_families("train")]
        big = config.generated_per_family * len(fams) >= 5000  # worth starting worker processes
        gen = list(generate_many(fams, config.generated_per_family, config.generated_difficulty, config.seed,
                                 workers=(os.cpu_count() or 1) if big else 1))
        n_generated = len(gen)
        tasks += gen
    bad = overlap(tasks, load_eval_tasks(config.eval_sets)) if config.eval_sets else {}
    if bad and not config.drop_overlap:
        sample = "; ".join(f"{k}: {v}" for k, v in list(bad.items())[:5])
        raise ContaminationError(f"{len(bad)} training tasks overlap the evaluation sets {config.eval_sets} "
                                 f"({sample}{' ...' if len(bad) > 5 else ''}); use --drop-overlap to drop them")
    tasks = [t for t in tasks if t.id not in bad]
    record = {"tasks": len(tasks), "generated": n_generated, "dropped_overlap": sorted(bad)}
    return tasks, record


def read_training_record(model_path: str | Path) -> dict:
    """A model's arcttt.json: its fine-tuning config and data record (and its init model's, nested)."""
    import json

    meta_path = resolve_model(model_path) / "arcttt.json"
    if not meta_path.is_file():
        raise ArcTTTError(f"{meta_path} is missing: the model's training data is unknown")
    return json.loads(meta_path.read_text())


_REBUILT_STAGES: dict[str, tuple[Task, ...]] = {}


def pool_from_record(meta: dict, cache: dict | None = None) -> list[Task]:
    """Every task a model was trained on, through all its fine-tuning stages (meta['init'] nests the previous).

    cache: rebuilt stages by record (default: this process's own). Rebuilding a stage generates tens of
    thousands of tasks, and the contamination checks and the held-out benchmark all need the same pool."""
    import json

    cache = _REBUILT_STAGES if cache is None else cache
    key = json.dumps(meta, sort_keys=True)
    if key in cache:
        return list(cache[key])
    cfg = dict(meta["config"])
    cfg["generated_difficulty"] = tuple(cfg["generated_difficulty"])
    tasks, record = training_pool(FinetuneConfig(**cfg))
    if record != meta["data"]:
        raise ArcTTTError("the recorded training data can no longer be rebuilt exactly")
    if cfg.get("init"):
        if "init" not in meta:
            raise ArcTTTError(f"the model continued from {cfg['init']} but does not record that model's training")
        tasks += pool_from_record(meta["init"], cache)
    cache[key] = tuple(tasks)
    return tasks


def recorded_training_pool(model_path: str | Path, cache: dict | None = None) -> list[Task]:
    """Rebuild the exact training pool of a model from the config saved in its arcttt.json."""
    return pool_from_record(read_training_record(model_path), cache)


def task_example(task: Task, rng, max_tokens: int, vocab=GRID_VOCAB, loss: str = "outputs") -> Encoded | None:
    """One augmented training sequence from a task: a random query, the other pairs as context."""
    pairs = [p for p in task.train + task.test if p.output is not None]
    if len(pairs) < 2:
        return None
    t = compose(parse(SYMMETRY_NAMES[rng.integers(len(SYMMETRY_NAMES))]), random_colour_permutation(rng))
    q = int(rng.integers(len(pairs)))
    context = [pairs[i] for i in rng.permutation(len(pairs)) if i != q]
    while context and sequence_length(context, pairs[q].input, pairs[q].output) > max_tokens:
        context.pop()
    if not context:
        return None
    view = t.apply_task(Task(task.id, context, [pairs[q]]))
    return encode(view.train, view.test[0].input, view.test[0].output, vocab, loss)


def epoch_examples(tasks: Sequence[Task], epoch: int, config: FinetuneConfig, vocab=GRID_VOCAB) -> list[Encoded]:
    rng = rng_for(config.seed, "finetune", epoch)
    out = []
    for t in tasks:
        e = task_example(t, rng, config.max_tokens, vocab, config.loss)
        if e is not None:
            out.append(e)
    return out


def finetune(config: FinetuneConfig, progress: bool = True) -> Path:
    """Train and save a model folder at config.out; a rerun resumes from its last checkpoint."""
    import torch

    from ..data.codec import PAD
    from ..method.models import (
        build_grid_lm,
        load_model,
        parameter_count,
        pick_device,
        pick_dtype,
        save_model,
        set_threads,
    )
    from ..method.trainer import TrainConfig, train

    set_threads(config.threads)
    tasks, record = training_pool(config)
    if not tasks:
        raise ArcTTTError("no training tasks left")
    out = Path(config.out)
    if config.init:
        loaded = load_model(config.init, config.device, config.dtype)
        model, vocab = loaded.model, loaded.vocab
        if config.grow_layers:
            from .grow import deepen

            model = deepen(model, config.grow_layers)
        if config.merge_heads:
            from .grow import merge_heads

            model = merge_heads(model, config.merge_heads)
    elif config.grow_layers or config.merge_heads:
        raise ArcTTTError("grow_layers and merge_heads reshape an existing model: give init too")
    else:
        model, vocab = build_grid_lm(config.size, config.seed), GRID_VOCAB
        device = pick_device(config.device)
        model.to(device=device, dtype=pick_dtype(device, config.dtype))
    torch.manual_seed(config.seed)
    tc = TrainConfig(lr=config.lr, max_steps=config.steps, max_seconds=config.time_budget,
                     batch_size=config.batch_size,
                     grad_accum=config.grad_accum, warmup_frac=config.warmup_frac,
                     weight_decay=config.weight_decay, seed=config.seed,
                     checkpoint_every=config.checkpoint_every, autocast_bf16=config.mixed_bf16,
                     progress=progress, desc="finetune")
    start = time.time()
    result = train(model, lambda epoch: epoch_examples(tasks, epoch, config, vocab), tc,
                   pad_id=vocab.id(PAD), checkpoint_dir=out / "checkpoints")
    meta = {
        "config": asdict(config), "data": record, "parameters": parameter_count(model),
        "steps": result.steps, "tokens_seen": result.tokens, "target_tokens": result.target_tokens,
        "train_seconds": result.seconds, "wall_seconds_this_call": time.time() - start,
        "final_loss": sum(result.losses[-50:]) / max(1, len(result.losses[-50:])),
    }
    if config.init and (resolve_model(config.init) / "arcttt.json").is_file():
        meta["init"] = read_training_record(resolve_model(config.init))  # the earlier stages' data, for contamination checks
    save_model(model, out, extra=meta)
    return out
