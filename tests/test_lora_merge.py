"""lora_merge: training through the merged LoRA weight gives PEFT's losses and gradients."""

from __future__ import annotations

import pytest
import torch

from arcttt.data.codec import GRID_VOCAB, PAD
from arcttt.fast.lora_merge import merge_pays, merged_lora_training
from arcttt.method.config import TTTConfig, TTTDataConfig
from arcttt.method.trainer import collate, sequence_loss
from arcttt.method.ttt import TaskAdapter, encode_examples
from conftest import colour_map_task, loaded, tiny_lm

DATA = TTTDataConfig(transforms="symmetries", max_examples=12)


def _adapter(rank: int = 8, **kw) -> TaskAdapter:
    cfg = TTTConfig(mode="lora", lr=1e-2, max_steps=8, lora_rank=rank, lora_alpha=16, data=DATA,
                    precision="fp32", **kw)
    return TaskAdapter(loaded(tiny_lm()), cfg)


def _loss_and_grads(adapter: TaskAdapter, batch, merged: bool):
    model = adapter.model
    model.zero_grad(set_to_none=True)
    with torch.enable_grad():
        if merged:
            with merged_lora_training(model) as n:
                assert n > 0
                loss, _ = sequence_loss(model, *batch)
                loss.backward()
        else:
            loss, _ = sequence_loss(model, *batch)
            loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if "lora_" in name}
    return loss.item(), grads


def test_merge_pays_for_wide_ranks_only():
    assert merge_pays(128, 128, 32)  # the shipped tiny model's attention projections
    assert not merge_pays(2048, 2048, 128)  # a 1B model keeps PEFT's low-rank path


def test_merged_path_gives_peft_losses_and_gradients():
    task = colour_map_task(0, side=2, k=3)
    adapter = _adapter()
    with torch.no_grad():  # B = 0 at init would hide a wrong B @ A: give the adapters values
        for name, p in adapter.model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.05)
    encoded = encode_examples(adapter.task_dataset(task), GRID_VOCAB, "outputs")[:4]
    batch = collate(encoded, GRID_VOCAB.id(PAD), "cpu")
    adapter.model.train()
    plain_loss, plain_grads = _loss_and_grads(adapter, batch, merged=False)
    merged_loss, merged_grads = _loss_and_grads(adapter, batch, merged=True)
    assert merged_loss == pytest.approx(plain_loss, rel=1e-5)
    assert plain_grads.keys() == merged_grads.keys() and plain_grads
    for name in plain_grads:
        torch.testing.assert_close(merged_grads[name], plain_grads[name], rtol=1e-4, atol=1e-6)


def test_training_with_and_without_merging_follows_the_same_path():
    task = colour_map_task(1, side=2, k=3)
    reports = {flag: _adapter(merged_lora=flag).adapt(task) for flag in (False, True)}
    assert reports[True].losses == pytest.approx(reports[False].losses, rel=1e-4, abs=1e-5)


def test_layers_are_peft_layers_again_after_the_block():
    adapter = _adapter()
    with merged_lora_training(adapter.model):
        pass
    assert not any("forward" in vars(m) for m in adapter.model.modules())


def test_dropout_keeps_the_peft_path():
    adapter = _adapter(lora_dropout=0.1)
    with merged_lora_training(adapter.model) as n:
        assert n == 0
