"""trainer: loss masks, the loop, gradient accumulation, NaN detection, checkpoint and resume."""

from __future__ import annotations

import math
from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from arcttt.data.codec import GRID_VOCAB, PAD, encode, encode_task
from arcttt.method.trainer import (
    TrainConfig,
    TrainingError,
    bucketed_batches,
    collate,
    cosine_lr,
    sequence_loss,
    time_lr,
    train,
)
from conftest import colour_map_task, random_task, tiny_lm

PAD_ID = GRID_VOCAB.id(PAD)


def _examples(n: int = 4, loss: str = "outputs"):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = random_task(rng, k=3, max_side=3, task_id=f"r{i}")
        out.append(encode_task(t, vocab=GRID_VOCAB, loss=loss, with_answer=True))
    return out


class FixedLogits(torch.nn.Module):
    """A 'model' whose logits do not depend on the input ids at all."""

    def __init__(self, batch: int, length: int, vocab: int = 16, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.table = torch.nn.Parameter(torch.randn(batch, length, vocab, generator=g))

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=self.table[:, : input_ids.shape[1]])


def test_sequence_loss_counts_exactly_the_masked_targets():
    ex = _examples(2)
    ids, attn, target = collate(ex, PAD_ID, "cpu")
    model = FixedLogits(*ids.shape)
    loss, n = sequence_loss(model, ids, attn, target)
    assert n == sum(int(e.loss_mask[1:].sum()) for e in ex)
    # manual: token t is a target predicted from the logits at t-1
    manual = 0.0
    for b, e in enumerate(ex):
        for t in np.flatnonzero(e.loss_mask):
            manual += -torch.log_softmax(model.table[b, t - 1], -1)[int(e.ids[t])].item()
    assert loss.item() == pytest.approx(manual, rel=1e-5)
    # changing the label of a non-target token (logits unchanged) leaves the loss unchanged ...
    ids2 = ids.clone()
    not_target = (~target[0]).nonzero().flatten()
    not_target = not_target[not_target > 0]
    ids2[0, not_target] = (ids2[0, not_target] + 1) % 10
    assert sequence_loss(model, ids2, attn, target)[0].item() == pytest.approx(loss.item(), abs=1e-6)
    # ... while changing one target token's label changes it
    t0 = int(target[0].nonzero()[0])
    ids3 = ids.clone()
    ids3[0, t0] = (ids3[0, t0] + 1) % 10
    assert sequence_loss(model, ids3, attn, target)[0].item() != pytest.approx(loss.item(), abs=1e-6)


def test_loss_mask_modes_select_the_intended_outputs():
    task = colour_map_task(1, side=2, k=3)
    q = task.test[0]
    n_out = lambda g: g.shape[0] * (g.shape[1] + 1) + 1  # cells, newlines, END
    e_query = encode(task.train, q.input, q.output, GRID_VOCAB, "query")
    e_outs = encode(task.train, q.input, q.output, GRID_VOCAB, "outputs")
    assert e_query.loss_mask.sum() == n_out(q.output)
    assert e_query.loss_mask[-n_out(q.output):].all() and not e_query.loss_mask[:e_query.prompt_length].any()
    # demonstration loss: outputs of demos 2..K and the query output, nothing else
    assert e_outs.loss_mask.sum() == sum(n_out(p.output) for p in task.train[1:]) + n_out(q.output)


def test_sequence_loss_matches_manual_and_ignores_padding(tiny_model):
    ex = _examples(3)
    ids, attn, target = collate(ex, PAD_ID, "cpu")
    with torch.no_grad():
        loss, n = sequence_loss(tiny_model, ids, attn, target)
        logits = tiny_model(input_ids=ids, attention_mask=attn).logits
        manual = sum(F.cross_entropy(logits[b, :-1][target[b, 1:]], ids[b, 1:][target[b, 1:]], reduction="sum")
                     for b in range(len(ex)))
        one_by_one = sum(sequence_loss(tiny_model, *collate([e], PAD_ID, "cpu"))[0] for e in ex)
    assert loss.item() == pytest.approx(manual.item(), rel=1e-5)
    assert loss.item() == pytest.approx(one_by_one.item(), rel=1e-4)  # right padding never leaks
    assert n == int(target[:, 1:].sum())


def test_bucketed_batches_cover_every_example_once():
    lengths = list(np.random.default_rng(0).integers(5, 100, size=37))
    batches = bucketed_batches(lengths, 4, np.random.default_rng(1))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(37))
    assert all(1 <= len(b) <= 4 for b in batches)


def test_cosine_schedule():
    assert cosine_lr(0, 100, 10, 0.0) == pytest.approx(0.1)
    assert cosine_lr(9, 100, 10, 0.0) == pytest.approx(1.0)
    assert cosine_lr(10, 100, 10, 0.0) == pytest.approx(1.0)
    assert cosine_lr(100, 100, 10, 0.1) == pytest.approx(0.1)
    assert cosine_lr(55, 100, 10, 0.0) == pytest.approx(0.5)


def test_time_schedule_follows_the_elapsed_fraction():
    assert time_lr(0.0, 0.1, 0.0) < 0.02
    assert time_lr(0.1, 0.1, 0.0) == pytest.approx(1.0)
    assert time_lr(0.55, 0.1, 0.0) == pytest.approx(0.5)
    assert time_lr(1.0, 0.1, 0.2) == pytest.approx(0.2)
    assert time_lr(3.0, 0.1, 0.2) == pytest.approx(0.2)  # past the budget: stays at the floor


def test_time_budget_stops_training_and_steps_still_cap_it():
    ex = _examples(4)
    spent = train(tiny_lm(), ex, TrainConfig(lr=1e-3, max_steps=50, max_seconds=1e-9, batch_size=2), PAD_ID)
    assert spent.steps == 1  # the budget is gone after the first step
    capped = train(tiny_lm(), ex, TrainConfig(lr=1e-3, max_steps=3, max_seconds=3600, batch_size=2), PAD_ID)
    assert capped.steps == 3


def test_training_lowers_the_loss_and_is_deterministic():
    ex = _examples(4)
    cfg = TrainConfig(lr=1e-2, max_steps=12, batch_size=2, seed=3)
    a, b = tiny_lm(), tiny_lm()
    ra, rb = train(a, ex, cfg, PAD_ID), train(b, ex, cfg, PAD_ID)
    assert ra.steps == 12 and len(ra.losses) == 12
    assert np.mean(ra.losses[-3:]) < np.mean(ra.losses[:3])
    assert ra.losses == rb.losses
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert ra.target_tokens > 0 and ra.tokens >= ra.target_tokens
    assert not a.training  # back in eval mode


def test_epochs_set_the_number_of_steps():
    ex = _examples(6)
    r = train(tiny_lm(), ex, TrainConfig(lr=1e-3, epochs=2, batch_size=2), PAD_ID)
    assert r.steps == 6  # 3 batches per epoch


def test_gradient_accumulation_matches_one_big_batch():
    ex = _examples(2)
    big, acc = tiny_lm(), tiny_lm()
    rb = train(big, ex, TrainConfig(lr=1e-3, max_steps=1, batch_size=2, grad_accum=1, warmup_frac=0), PAD_ID)
    ra = train(acc, ex, TrainConfig(lr=1e-3, max_steps=1, batch_size=1, grad_accum=2, warmup_frac=0), PAD_ID)
    assert ra.steps == rb.steps == 1
    assert ra.losses[0] == pytest.approx(rb.losses[0], rel=1e-5)  # mean over the targets of both micro-batches
    close = [torch.allclose(p, q, atol=1e-5) for p, q in zip(big.parameters(), acc.parameters())]
    assert np.mean(close) > 0.9
    with_accum = train(tiny_lm(), _examples(8), TrainConfig(lr=1e-3, epochs=1, batch_size=2, grad_accum=2),
                       PAD_ID)
    assert with_accum.steps == 2 and all(math.isfinite(x) for x in with_accum.losses)
    # 3 micro-batches per epoch in groups of 2: one epoch is 2 steps (the last one short), not 1
    odd = train(tiny_lm(), _examples(6), TrainConfig(lr=1e-3, epochs=1, batch_size=2, grad_accum=2), PAD_ID)
    assert odd.steps == 2 and odd.target_tokens == sum(int(e.loss_mask[1:].sum()) for e in _examples(6))


def test_nan_loss_raises_training_error():
    model = tiny_lm()
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("nan")
    with pytest.raises(TrainingError, match="loss is nan"):
        train(model, _examples(2), TrainConfig(max_steps=3), PAD_ID)


def test_nothing_to_train_or_no_examples():
    model = tiny_lm()
    with pytest.raises(TrainingError, match="no training examples"):
        train(model, [], TrainConfig(max_steps=1), PAD_ID)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(TrainingError, match="nothing to train"):
        train(model, _examples(2), TrainConfig(max_steps=1), PAD_ID)


class Crash(Exception):
    pass


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_resume_from_checkpoint_equals_an_uninterrupted_run(tmp_path, grad_accum):
    base = _examples(4 * grad_accum)

    def epochs(crash_at: int | None):
        def get(epoch: int):
            if crash_at is not None and epoch >= crash_at:
                raise Crash(f"killed while starting epoch {epoch}")
            rng = np.random.default_rng(epoch)
            return [base[i] for i in rng.permutation(len(base))]  # fresh order each epoch
        return get

    cfg = TrainConfig(lr=1e-2, max_steps=6, batch_size=2, grad_accum=grad_accum, checkpoint_every=3, seed=1)
    whole = tiny_lm()
    r_whole = train(whole, epochs(None), cfg, PAD_ID)

    ckpt = tmp_path / "ckpt"
    seen = []
    with pytest.raises(Crash):  # 2 steps per epoch: dies after step 4, last checkpoint at step 3
        train(tiny_lm(), epochs(2), cfg, PAD_ID, checkpoint_dir=ckpt, on_checkpoint=seen.append)
    assert seen == [3] and (ckpt / "trainer_state.pt").exists()
    resumed = tiny_lm()  # a fresh process builds the model again, then the loop restores it
    r_resumed = train(resumed, epochs(None), cfg, PAD_ID, checkpoint_dir=ckpt)
    assert r_resumed.steps == 6
    assert r_resumed.losses == pytest.approx(r_whole.losses, rel=1e-6, abs=1e-7)
    for (n, p), q in zip(whole.named_parameters(), resumed.parameters()):
        assert torch.allclose(p, q, atol=1e-6), n
    # a finished run re-run with its checkpoint trains no further
    again = train(resumed, epochs(None), cfg, PAD_ID, checkpoint_dir=ckpt)
    assert again.steps == 6 and again.losses == r_resumed.losses


def _loss_and_grads(model, batch, ctx):
    model.zero_grad(set_to_none=True)
    with ctx:
        loss, _ = sequence_loss(model, *batch)
    loss.backward()
    return loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]


@pytest.mark.parametrize("padded", [False, True])
def test_fp32_short_attention_gives_sdpa_s_loss_and_gradients_in_fp32(padded):
    from arcttt.fast.short_attention import NAME, fp32_short_attention

    model = tiny_lm()
    batch = collate(_examples(2), PAD_ID, "cpu")
    if padded:  # a left-padded row: sequence_loss then passes the mask, which the switched model must honour
        ids, attn, target = batch
        attn = torch.cat([torch.zeros_like(attn[:, :3]), attn], 1)
        batch = (torch.cat([torch.full_like(ids[:, :3], PAD_ID), ids], 1), attn,
                 torch.cat([torch.zeros_like(target[:, :3]), target], 1))
    plain = _loss_and_grads(model, batch, nullcontext())
    with fp32_short_attention(model) as switched:
        assert switched and model.config._attn_implementation == NAME
        fast = _loss_and_grads(model, batch, nullcontext())
    assert model.config._attn_implementation == "sdpa"  # switched back after the block
    assert fast[0] == pytest.approx(plain[0], rel=1e-5)
    for a, b in zip(fast[1], plain[1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_under_bf16_autocast_short_batches_attend_in_fp32_and_long_ones_in_bf16(monkeypatch):
    from arcttt.fast.short_attention import FP32_BELOW, fp32_short_attention

    seen = []
    sdpa = F.scaled_dot_product_attention

    def recording(q, k, v, *args, **kwargs):
        # the dtype SDPA computes in: autocast casts its inputs to bf16 inside the call
        seen.append((q.shape[-2], torch.bfloat16 if torch.is_autocast_enabled("cpu") else q.dtype))
        return sdpa(q, k, v, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", recording)
    model = tiny_lm(max_positions=2 * FP32_BELOW)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16)
    for length in (FP32_BELOW // 4, FP32_BELOW + 8):
        ids = torch.randint(0, len(GRID_VOCAB.ids), (2, length))
        batch = (ids, torch.ones_like(ids), torch.ones_like(ids, dtype=torch.bool))
        seen.clear()
        with fp32_short_attention(model):
            loss, grads = _loss_and_grads(model, batch, autocast)
        assert math.isfinite(loss) and grads
        expected = torch.float32 if length < FP32_BELOW else torch.bfloat16
        assert seen and all(d == expected for n, d in seen), (length, seen)
    seen.clear()
    with torch.inference_mode(), fp32_short_attention(model):  # not while decoding
        with autocast:
            model(input_ids=torch.randint(0, 10, (1, 16)))
    assert seen and all(d == torch.bfloat16 for _, d in seen)


def test_optimizer_is_fused_for_fp32_parameters():
    from arcttt.method.trainer import make_optimizer

    params = [torch.nn.Parameter(torch.zeros(3))]
    assert make_optimizer(params, TrainConfig()).defaults["fused"]
