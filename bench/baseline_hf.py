"""The baseline for bench/speed.py: TTT + augmented inference written the way a user would with the standard tools.

Per task: reload the model from disk, wrap it with peft.get_peft_model, train with transformers.Trainer
(per_device_train_batch_size=2, same lr / epochs / warmup / cosine schedule, no eval, no saving,
report_to none; fp32 as a user gets by default on a CPU, or bf16=True) on padded batches from a simple collator (labels -100 outside arcttt's loss mask),
then one model.generate call per augmented prompt (greedy, max_new_tokens=931, eos = END, no output
constraint), parse with codec.decode_grid, invert, hierarchical vote.

It shares only data code with arcttt (the TTT examples, the codec, the views, voting), never the engine.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch

from arcttt.data.codec import END, PAD, CodecError, Vocab, decode_grid, encode
from arcttt.errors import TransformError
from arcttt.method.inference import MAX_OUTPUT_TOKENS
from arcttt.method.voting import Candidate
from arcttt.seeding import derive_seed


@dataclass
class BaselineTTT:
    model: object
    seconds: float
    steps: int
    tokens: int


class PadCollator:
    """Right-pad a list of {'input_ids', 'loss_mask'} into input_ids, attention_mask and labels."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features):
        n = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), n), self.pad_id, dtype=torch.long)
        attn = torch.zeros((len(features), n), dtype=torch.long)
        labels = torch.full((len(features), n), -100, dtype=torch.long)
        for i, f in enumerate(features):
            x = torch.as_tensor(f["input_ids"])
            m = torch.as_tensor(f["loss_mask"])
            ids[i, : len(x)] = x
            attn[i, : len(x)] = 1
            labels[i, : len(x)] = torch.where(m, x, torch.full_like(x, -100))
        return {"input_ids": ids, "attention_mask": attn, "labels": labels}


def ttt(model_path: str, examples, vocab: Vocab, cfg, seed: int, task_id: str, bf16: bool = False) -> BaselineTTT:
    """Reload the model, LoRA-wrap it and train it with transformers.Trainer on the task's TTT examples
    (bf16: the Trainer's own mixed precision, TrainingArguments(bf16=True))."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    torch.manual_seed(derive_seed(seed, "lora-init"))
    model = get_peft_model(model, LoraConfig(r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                             target_modules=[t for t in cfg.target_modules if t in names], bias="none"))
    data = []
    for ex in examples:
        e = encode(ex.demos, ex.query.input, ex.query.output, vocab, cfg.loss)
        data.append({"input_ids": e.ids.tolist(), "loss_mask": e.loss_mask.tolist()})
    steps_per_epoch = math.ceil(len(data) / cfg.batch_size)
    total = cfg.max_steps or max(1, round(cfg.epochs * steps_per_epoch))
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.lr,
                                 num_train_epochs=cfg.epochs, max_steps=total, warmup_steps=max(1, round(cfg.warmup_frac * total)),
                                 lr_scheduler_type="cosine", weight_decay=0.0, max_grad_norm=1.0,
                                 eval_strategy="no", save_strategy="no", report_to="none", logging_strategy="no",
                                 use_cpu=not torch.cuda.is_available(), seed=derive_seed(seed, task_id, "ttt") % 2**31,
                                 dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True,
                                 bf16=bf16)
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=PadCollator(vocab.id(PAD)))
        out = trainer.train()
    model.eval()
    tokens = round(sum(len(d["input_ids"]) for d in data) * total / steps_per_epoch)
    return BaselineTTT(model, time.perf_counter() - start, int(out.global_step), tokens)


@torch.inference_mode()
def infer(model, views, vocab: Vocab, stats: dict | None = None) -> list[Candidate]:
    """One model.generate per view (greedy, no constraint), parsed, inverted: candidates for voting."""
    candidates = []
    for v in views:
        ids = torch.as_tensor(v.prompt.ids).unsqueeze(0)
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=MAX_OUTPUT_TOKENS,
                             do_sample=False, eos_token_id=vocab.id(END), pad_token_id=vocab.id(PAD),
                             output_scores=True, return_dict_in_generate=True)
        new = out.sequences[0, ids.shape[1]:]
        logp = sum(float(torch.log_softmax(s[0].float(), -1)[t]) for s, t in zip(out.scores, new.tolist()))
        if stats is not None:
            stats["generated_tokens"] = stats.get("generated_tokens", 0) + len(new)
        try:
            grid = v.transform.invert(decode_grid(new.tolist(), vocab))
        except (CodecError, TransformError):
            continue
        candidates.append(Candidate(grid, v.transform.name, logp))
    return candidates


__all__ = ["PadCollator", "ttt", "infer", "BaselineTTT", "np"]
