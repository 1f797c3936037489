"""Per-task test-time training: a fresh adapter per task, reset in memory, never reloaded from disk.

Modes (the paper's ablations):
- ``lora``: a LoRA adapter per task, reset to the same initial weights before each task;
- ``full``: fine-tune every weight of the model, restored from an in-memory copy after each task
  (cheap for tiny models);
- ``shared``: one LoRA adapter trained on all tasks' test-time data together, then used for all;
- ``none``: no test-time training (the fine-tuned-only baseline);
- ``auto`` (the default): ``full`` for models of at most FULL_TTT_MAX_PARAMETERS parameters, else ``lora``.
  A per-task copy of a small grid LM costs no more than its LoRA adapters and learned more on the
  selection suite (docs/results.md).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from ..data.codec import PAD, encode
from ..data.tasks import Task
from ..errors import ArcTTTError
from ..fast.lora_merge import merged_lora_training
from ..seeding import derive_seed
from .config import FULL_TTT_MAX_PARAMETERS, PRECISIONS, TTT_MODES, TTTConfig
from .models import LoadedModel, parameter_count
from .trainer import TrainConfig, TrainResult, train
from .ttt_data import TTTExample, build_ttt_dataset


@dataclass
class TTTReport:
    examples: int = 0
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    precision: str = ""


def resolved_mode(mode: str, model) -> str:
    """'auto' -> 'full' for a model of at most FULL_TTT_MAX_PARAMETERS parameters, else 'lora'."""
    if mode != "auto":
        return mode
    return "full" if parameter_count(model) <= FULL_TTT_MAX_PARAMETERS else "lora"


def encode_examples(examples: Sequence[TTTExample], vocab, loss: str):
    return [encode(ex.demos, ex.query.input, ex.query.output, vocab, loss) for ex in examples]


class TaskAdapter:
    """Wraps the base model once; `adapt(task)` resets the per-task weights and trains them."""

    def __init__(self, loaded: LoadedModel, config: TTTConfig, seed: int = 0, progress: bool = False):
        if config.mode not in TTT_MODES:
            raise ArcTTTError(f"unknown TTT mode '{config.mode}'; choose from {', '.join(TTT_MODES)}")
        if config.precision not in PRECISIONS:
            raise ArcTTTError(f"unknown TTT precision '{config.precision}'; choose from {', '.join(PRECISIONS)}")
        config = dataclasses.replace(config, mode=resolved_mode(config.mode, loaded.model))
        self.loaded = loaded
        self.config = config
        self.seed = seed
        self.progress = progress
        self.model = loaded.model
        self._initial: dict[str, torch.Tensor] | None = None
        if config.mode in ("lora", "shared"):
            self.model = self._wrap_lora(loaded.model)
            self._initial = {k: v.detach().clone() for k, v in self.model.state_dict().items() if "lora_" in k}
        elif config.mode == "full":
            self._initial = copy.deepcopy(loaded.model.state_dict())
        self.model.eval()

    def _wrap_lora(self, base):
        from peft import LoraConfig, get_peft_model

        names = {n.rsplit(".", 1)[-1] for n, _ in base.named_modules()}
        targets = [t for t in self.config.target_modules if t in names]
        if not targets:
            raise ArcTTTError(f"none of the LoRA target modules {self.config.target_modules} exist in the model")
        torch.manual_seed(derive_seed(self.seed, "lora-init"))
        cfg = LoraConfig(r=self.config.lora_rank, lora_alpha=self.config.lora_alpha,
                         lora_dropout=self.config.lora_dropout, target_modules=targets, bias="none")
        return get_peft_model(base, cfg)

    def reset(self) -> None:
        """Back to the base model's behaviour (LoRA B = 0 / the saved full weights), in memory."""
        if self._initial is not None:
            self.model.load_state_dict(self._initial, strict=False)

    @contextmanager
    def folded(self):
        """LoRA added into the base weights while predicting, so decode steps skip the adapters'
        extra matmuls; the base weight tensors themselves are put back untouched afterwards."""
        from peft.tuners.lora import LoraLayer

        if self.config.mode not in ("lora", "shared"):
            yield self.model
            return
        originals = []
        try:
            with torch.no_grad():
                for module in self.model.modules():
                    if isinstance(module, LoraLayer) and module.active_adapters:
                        weight = module.get_base_layer().weight
                        delta = sum(module.get_delta_weight(a) for a in module.active_adapters)
                        originals.append((weight, weight.data))
                        weight.data = weight.data + delta.to(weight.dtype)
            with self.model.disable_adapter():
                yield self.model
        finally:
            for weight, data in originals:
                weight.data = data

    def end_task(self) -> None:
        """Called after each task: drop the per-task weights (the shared adapter is kept)."""
        if self.config.mode in ("lora", "full"):
            self.reset()

    def save_adapter(self, path: str | Path) -> Path:
        """Write the current adapted weights (LoRA weights, or every weight in 'full' mode) to a folder."""
        from safetensors.torch import save_file

        if self.config.mode == "none":
            raise ArcTTTError("TTT mode 'none' has no adapter to save")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.config.mode == "full":
            state = {k: v.detach().contiguous().clone() for k, v in self.model.state_dict().items()}
        else:
            from peft import get_peft_model_state_dict

            state = {k: v.detach().contiguous().clone() for k, v in get_peft_model_state_dict(
                self.model, save_embedding_layers=False).items()}
        save_file(state, str(path / "adapter.safetensors"))
        meta = {"mode": self.config.mode, "lora_rank": self.config.lora_rank, "lora_alpha": self.config.lora_alpha,
                "target_modules": list(self.config.target_modules)}
        (path / "adapter.json").write_text(json.dumps(meta, indent=1))
        return path

    def load_adapter(self, path: str | Path) -> None:
        """Load weights written by `save_adapter` (same mode and LoRA shape) into this adapter, in memory."""
        from safetensors.torch import load_file

        path = Path(path)
        meta_path, weights = path / "adapter.json", path / "adapter.safetensors"
        if not meta_path.exists() or not weights.exists():
            raise ArcTTTError(f"{path}: not an adapter folder (needs adapter.json and adapter.safetensors)")
        meta = json.loads(meta_path.read_text())
        mine = {"mode": self.config.mode, "lora_rank": self.config.lora_rank}
        theirs = {k: meta.get(k) for k in mine}
        if self.config.mode == "full":
            mine.pop("lora_rank"), theirs.pop("lora_rank")
        if mine != theirs:
            raise ArcTTTError(f"{path}: adapter was saved with {theirs}, this adapter is {mine}")
        device = next(self.model.parameters()).device
        state = load_file(str(weights), device=str(device))
        if self.config.mode == "full":
            self.model.load_state_dict(state, strict=True)
        else:
            from peft import set_peft_model_state_dict

            result = set_peft_model_state_dict(self.model, state)
            if getattr(result, "unexpected_keys", None):
                raise ArcTTTError(f"{path}: adapter weights do not fit this model "
                                  f"(unexpected: {result.unexpected_keys[:3]})")

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        if self.config.mode == "full":
            return [p for p in self.model.parameters()]
        return [p for n, p in self.model.named_parameters() if "lora_" in n]

    def _train(self, examples: list[TTTExample], seed: int, desc: str, max_seconds: float | None = None) -> TTTReport:
        encoded = encode_examples(examples, self.loaded.vocab, self.config.loss)
        if self.config.mode == "full":
            for p in self.model.parameters():
                p.requires_grad_(True)
        precision = self.resolved_precision()
        tc = TrainConfig(lr=self.config.lr, epochs=self.config.epochs,
                         max_steps=None if max_seconds else self.config.max_steps, max_seconds=max_seconds,
                         batch_size=self.config.batch_size, warmup_frac=self.config.warmup_frac,
                         seed=seed, progress=self.progress, desc=desc, autocast_bf16=precision == "bf16")
        torch.manual_seed(seed)
        merge = self.config.merged_lora and self.config.mode in ("lora", "shared")
        with merged_lora_training(self.model) if merge else nullcontext():
            res: TrainResult = train(self.model, encoded, tc, pad_id=self.loaded.vocab.id(PAD),
                                     params=self.trainable_parameters())
        return TTTReport(len(examples), res.steps, res.tokens, res.seconds, res.losses, precision)

    def resolved_precision(self) -> str:
        """'bf16' or 'fp32': what TTT runs in on this model's device."""
        from .models import native_bf16

        if self.config.precision != "auto":
            return self.config.precision
        return "bf16" if native_bf16(next(self.model.parameters()).device) else "fp32"

    def max_tokens(self) -> int | None:
        """The TTT data's token limit, never above the model's context size."""
        from .inference import model_max_positions

        limit = model_max_positions(self.model)
        mt = self.config.data.max_tokens
        return limit if mt is None else min(mt, limit)

    def task_dataset(self, task: Task) -> list[TTTExample]:
        data = dataclasses.replace(self.config.data, max_tokens=self.max_tokens())
        examples = build_ttt_dataset(task, data, self.seed)
        if not examples:
            raise ArcTTTError(f"task {task.id}: no test-time training example fits the token limit "
                              f"({data.max_tokens})")
        return examples

    def adapt(self, task: Task, max_seconds: float | None = None) -> TTTReport:
        """Reset, then train on the task's own leave-one-out data (test outputs are never used).

        With max_seconds, training runs until that time is spent (epochs and max_steps ignored, the
        schedule following the clock)."""
        if self.config.mode in ("none", "shared"):
            return TTTReport()
        self.reset()
        start = time.perf_counter()
        report = self._train(self.task_dataset(task.without_solutions()),
                             derive_seed(self.seed, task.id, "ttt"), f"ttt {task.id}", max_seconds)
        report.seconds = time.perf_counter() - start
        return report

    def adapt_shared(self, tasks: Sequence[Task]) -> TTTReport:
        """The 'one adapter for all tasks' ablation: train once on the union of the tasks' data."""
        if self.config.mode != "shared":
            return TTTReport()
        self.reset()
        examples = []
        for t in tasks:
            try:
                examples += self.task_dataset(t.without_solutions())
            except ArcTTTError:
                continue
        if not examples:
            raise ArcTTTError("shared adapter: no task gave a test-time training example")
        return self._train(examples, derive_seed(self.seed, "shared"), "ttt shared")
