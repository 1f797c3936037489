"""ttt: per-task adaptation lowers the task's loss, resets exactly, saves and loads."""

from __future__ import annotations

import copy

import pytest
import torch

from arcttt.data.codec import GRID_VOCAB, PAD, encode_task
from arcttt.errors import ArcTTTError
from arcttt.method.config import TTTConfig, TTTDataConfig
from arcttt.method.trainer import collate, sequence_loss
from arcttt.method.ttt import TaskAdapter, encode_examples
from conftest import colour_map_task, loaded, tiny_lm

DATA = TTTDataConfig(transforms="symmetries", max_examples=24)


def _config(mode: str, **kw) -> TTTConfig:
    kw = {"lr": 1e-2, "max_steps": 15, "lora_rank": 8, "lora_alpha": 16, "data": DATA, **kw}
    return TTTConfig(mode=mode, **kw)


def _mean_loss(model, encoded) -> float:
    with torch.no_grad():
        loss, n = sequence_loss(model, *collate(encoded, GRID_VOCAB.id(PAD), "cpu"))
    return loss.item() / n


def _logits(model, task) -> torch.Tensor:
    ids = torch.as_tensor(encode_task(task).ids)[None]
    with torch.no_grad():
        return model(input_ids=ids).logits[0]


@pytest.mark.parametrize("mode", ["lora", "full"])
def test_ttt_lowers_the_leave_one_out_loss(mode):
    ad = TaskAdapter(loaded(tiny_lm()), _config(mode))
    task = colour_map_task(0, side=2, k=3)
    encoded = encode_examples(ad.task_dataset(task.without_solutions()), GRID_VOCAB, "outputs")
    before = _mean_loss(ad.model, encoded)
    report = ad.adapt(task)
    after = _mean_loss(ad.model, encoded)
    assert report.steps == 15 and report.examples == len(encoded) > 3
    assert after < before - 0.3, (before, after)


@pytest.mark.parametrize("mode", ["lora", "full"])
def test_adapter_for_task_a_leaves_task_b_unchanged_after_reset(mode):
    base = tiny_lm()
    reference = copy.deepcopy(base)
    ad = TaskAdapter(loaded(base), _config(mode))
    a, b = colour_map_task(1, side=2, k=3, task_id="a"), colour_map_task(2, side=3, k=3, task_id="b")
    before = _logits(ad.model, b)
    assert torch.equal(before, _logits(reference, b))  # a fresh LoRA adapter starts as the identity
    ad.adapt(a)
    assert not torch.equal(_logits(ad.model, b), before)  # training did change the model ...
    ad.end_task()
    assert torch.equal(_logits(ad.model, b), before)  # ... and the reset undoes it exactly
    # adapting B after A gives what adapting B alone gives
    ad.adapt(b)
    after_a_then_b = _logits(ad.model, b)
    fresh = TaskAdapter(loaded(copy.deepcopy(reference)), _config(mode))
    fresh.adapt(b)
    assert torch.allclose(after_a_then_b, _logits(fresh.model, b), atol=1e-5)


def test_lora_trains_only_adapter_weights():
    base = tiny_lm()
    reference = copy.deepcopy(base)
    ad = TaskAdapter(loaded(base), _config("lora"))
    ad.adapt(colour_map_task(3, side=2, k=3))
    names = [n for n, p in ad.model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    base_weights = {n.replace("base_model.model.", "").replace(".base_layer", ""): p
                    for n, p in ad.model.named_parameters() if "lora_" not in n}
    for n, p in reference.named_parameters():
        assert torch.equal(p, base_weights[n]), n


@pytest.mark.parametrize("mode", ["lora", "full"])
def test_save_and_load_adapter_gives_identical_logits(tmp_path, mode):
    base = tiny_lm()
    pristine = copy.deepcopy(base)
    ad = TaskAdapter(loaded(base), _config(mode))
    task = colour_map_task(4, side=2, k=3)
    ad.adapt(task)
    trained = _logits(ad.model, task)
    ad.save_adapter(tmp_path / "adapter")
    ad.end_task()
    assert not torch.equal(_logits(ad.model, task), trained)
    ad.load_adapter(tmp_path / "adapter")
    assert torch.equal(_logits(ad.model, task), trained)
    # and into another adapter over a fresh copy of the base model
    other = TaskAdapter(loaded(pristine), _config(mode))
    other.load_adapter(tmp_path / "adapter")
    assert torch.equal(_logits(other.model, task), trained)


def test_load_adapter_refuses_a_mismatch(tmp_path):
    ad = TaskAdapter(loaded(tiny_lm()), _config("lora"))
    ad.save_adapter(tmp_path / "r8")
    other = TaskAdapter(loaded(tiny_lm()), _config("lora", lora_rank=4))
    with pytest.raises(ArcTTTError, match="saved with"):
        other.load_adapter(tmp_path / "r8")
    with pytest.raises(ArcTTTError, match="not an adapter folder"):
        other.load_adapter(tmp_path / "missing")


def test_none_mode_trains_nothing():
    base = tiny_lm()
    ad = TaskAdapter(loaded(base), _config("none"))
    task = colour_map_task(5, side=2)
    before = _logits(ad.model, task)
    report = ad.adapt(task)
    assert report.steps == 0 and ad.model is base
    assert torch.equal(_logits(ad.model, task), before)


def test_shared_adapter_is_trained_once_and_kept_across_tasks():
    base = tiny_lm()
    reference = copy.deepcopy(base)
    ad = TaskAdapter(loaded(base), _config("shared"))
    tasks = [colour_map_task(i, side=2, k=3, task_id=f"s{i}") for i in range(2)]
    report = ad.adapt_shared(tasks)
    assert report.steps == 15
    shared = _logits(ad.model, tasks[0])
    assert not torch.equal(shared, _logits(reference, tasks[0]))
    assert ad.adapt(tasks[0]).steps == 0  # no per-task training in shared mode
    ad.end_task()  # what the solver calls after each task: the shared adapter stays
    assert torch.equal(_logits(ad.model, tasks[0]), shared)


def test_ttt_data_does_not_depend_on_test_outputs():
    ad = TaskAdapter(loaded(tiny_lm()), _config("lora"))
    task = colour_map_task(6, side=2, k=3)
    other = type(task)(task.id, task.train, [type(task.test[0])(task.test[0].input, task.test[0].input)])
    keys = [ex.key() for ex in ad.task_dataset(task)]
    assert keys == [ex.key() for ex in ad.task_dataset(other)]
    assert keys == [ex.key() for ex in ad.task_dataset(task.without_solutions())]


def test_ttt_data_is_capped_by_the_context_size():
    model = tiny_lm(max_positions=64)
    ad = TaskAdapter(loaded(model), _config("full", data=TTTDataConfig(transforms="none", max_tokens=8192)))
    assert ad.max_tokens() == 64
    big = colour_map_task(7, side=6, k=3)  # every leave-one-out sequence is > 64 tokens
    with pytest.raises(ArcTTTError, match="no test-time training example fits"):
        ad.adapt(big)


def test_unknown_mode_is_an_error():
    with pytest.raises(ArcTTTError, match="unknown TTT mode"):
        TaskAdapter(loaded(tiny_lm()), TTTConfig(mode="sometimes"))


def test_unknown_precision_is_an_error():
    with pytest.raises(ArcTTTError, match="unknown TTT precision"):
        TaskAdapter(loaded(tiny_lm()), TTTConfig(precision="fp8"))


def test_mixed_precision_ttt_follows_the_fp32_run():
    """bf16 autocast changes the last bits of each step, not where training goes; weights stay fp32."""
    task = colour_map_task(0, side=2, k=3)
    reports, params = {}, {}
    for precision in ("fp32", "bf16"):
        ad = TaskAdapter(loaded(tiny_lm()), _config("lora", precision=precision))
        reports[precision] = ad.adapt(task)
        params[precision] = {n: p.detach().clone() for n, p in ad.model.named_parameters() if "lora_" in n}
        assert all(p.dtype == torch.float32 for p in params[precision].values())
    assert reports["fp32"].precision == "fp32" and reports["bf16"].precision == "bf16"
    assert reports["bf16"].losses == pytest.approx(reports["fp32"].losses, rel=0.05, abs=0.02)
    assert reports["bf16"].losses[-1] < reports["bf16"].losses[0] - 0.3


def test_auto_precision_is_fp32_without_native_bf16(monkeypatch):
    import arcttt.method.models

    monkeypatch.setattr(arcttt.method.models, "native_bf16", lambda device: False)
    assert TaskAdapter(loaded(tiny_lm()), TTTConfig()).resolved_precision() == "fp32"
    monkeypatch.setattr(arcttt.method.models, "native_bf16", lambda device: True)
    assert TaskAdapter(loaded(tiny_lm()), TTTConfig()).resolved_precision() == "bf16"


def test_auto_mode_fine_tunes_small_models_in_full_and_larger_ones_with_lora(monkeypatch):
    import arcttt.method.ttt as ttt_module

    small = TaskAdapter(loaded(tiny_lm()), _config("auto"))
    assert small.config.mode == "full" and not any("lora_" in n for n, _ in small.model.named_parameters())
    assert small.adapt(colour_map_task(3, side=2, k=3)).steps == 15
    monkeypatch.setattr(ttt_module, "FULL_TTT_MAX_PARAMETERS", 10)
    large = TaskAdapter(loaded(tiny_lm()), _config("auto"))
    assert large.config.mode == "lora" and any("lora_" in n for n, _ in large.model.named_parameters())
    assert TTTConfig().mode == "auto"
