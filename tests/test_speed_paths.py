"""The fast paths give the same numbers as plain reference implementations (no timing here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from arcttt.data.codec import END, GRID_VOCAB, NEWLINE, PAD, GridConstraint, encode_task
from arcttt.method.config import TTTConfig
from arcttt.method.inference import CACHE_KW, greedy_decode, grid_allowed, new_cache
from arcttt.method.trainer import collate, sequence_loss
from arcttt.method.ttt import TaskAdapter
from conftest import loaded, random_task, tiny_lm

PAD_ID = GRID_VOCAB.id(PAD)


def _examples(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [encode_task(random_task(rng, k=int(rng.integers(1, 4)), max_side=5, task_id=f"r{i}"),
                        loss="outputs", with_answer=True) for i in range(n)]


def _hf_reference_loss(model, ex):
    """The textbook way: right-padded batch, attention mask, labels -100 outside the loss mask."""
    ids, attn, target = collate(ex, PAD_ID, "cpu")
    labels = torch.where(target, ids, torch.full_like(ids, -100))
    return model(input_ids=ids, attention_mask=attn, labels=labels).loss


@pytest.mark.parametrize("seed", [0, 1])
def test_sequence_loss_equals_hf_loss_with_labels(seed):
    model = tiny_lm(seed=seed)
    ex = _examples(3, seed)
    assert len({len(e) for e in ex}) > 1  # padding is exercised
    ids, attn, target = collate(ex, PAD_ID, "cpu")
    with torch.no_grad():
        fast, n = sequence_loss(model, ids, attn, target)
        ref = _hf_reference_loss(model, ex)
    assert fast.item() / n == pytest.approx(ref.item(), rel=1e-5)


def test_sequence_loss_gradients_equal_the_reference_through_lora():
    adapter = TaskAdapter(loaded(tiny_lm(seed=2)), TTTConfig(mode="lora", lora_rank=4, lora_alpha=8))
    model = adapter.model
    params = adapter.trainable_parameters()
    with torch.no_grad():  # LoRA B starts at zero: give it values so every gradient path is live
        for p in params:
            p.normal_(0, 0.05)
    ex = _examples(2, 5)
    ids, attn, target = collate(ex, PAD_ID, "cpu")
    fast, n = sequence_loss(model, ids, attn, target)
    (fast / n).backward()
    g_fast = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    ref = _hf_reference_loss(model, ex)
    ref.backward()
    assert (fast / n).item() == pytest.approx(ref.item(), rel=1e-5)
    for a, p in zip(g_fast, params):
        torch.testing.assert_close(a, p.grad, rtol=1e-4, atol=1e-6)


def _reference_greedy(model, prompt: np.ndarray, max_new_tokens: int):
    """Token by token, the whole sequence re-run at every step, no cache, no batching."""
    constraint = GridConstraint()
    seq = list(prompt)
    tokens, total = [], 0.0
    for _ in range(max_new_tokens):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([seq])).logits[0, -1]
        logp = torch.log_softmax(logits.float(), -1)
        allowed = constraint.allowed()
        s = max(allowed, key=lambda a: float(logp[GRID_VOCAB.id(a)]))
        constraint.step(s)
        tokens.append(GRID_VOCAB.id(s))
        total += float(logp[GRID_VOCAB.id(s)])
        seq.append(GRID_VOCAB.id(s))
        if s == END:
            break
    return tokens, total


@pytest.mark.parametrize("seed", [0, 3])
def test_batched_cached_greedy_equals_a_plain_loop(seed):
    model = tiny_lm(seed=seed)
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)  # peaky: outputs of different lengths, rows leave the batch early
    rng = np.random.default_rng(seed + 10)
    prompts = [encode_task(random_task(rng, k=2, max_side=4)).ids for _ in range(4)]
    prompts.append(prompts[0].copy())  # two of one length among others: padding and no padding
    fast = greedy_decode(model, prompts, GRID_VOCAB, max_positions=1024, max_new_tokens=40)
    for p, (tokens, lp) in zip(prompts, fast):
        ref_tokens, ref_lp = _reference_greedy(model, p, 40)
        assert tokens == ref_tokens
        assert lp == pytest.approx(ref_lp, abs=1e-3)


def test_equal_length_batch_without_mask_equals_each_prompt_alone():
    model = tiny_lm(seed=7)
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    rng = np.random.default_rng(1)
    task = random_task(rng, k=2, max_side=4)
    prompts = [encode_task(task).ids] * 3
    batch = greedy_decode(model, prompts, GRID_VOCAB, max_positions=1024, max_new_tokens=30)
    alone = greedy_decode(model, prompts[:1], GRID_VOCAB, max_positions=1024, max_new_tokens=30)[0]
    assert all(b[0] == alone[0] and b[1] == pytest.approx(alone[1], abs=1e-4) for b in batch)


def test_vectorised_grid_constraint_equals_grid_constraint():
    rng = np.random.default_rng(0)
    for _ in range(30):
        c = GridConstraint()
        width, rows, col = torch.tensor([-1]), torch.tensor([0]), torch.tensor([0])
        while not c.done:
            mask = grid_allowed(width, rows, col, 16)[0]
            assert sorted(mask.nonzero().flatten().tolist()) == sorted(c.allowed())
            opts = c.allowed()
            special = [o for o in opts if o >= NEWLINE]
            digits = [o for o in opts if o < NEWLINE]
            s = int(rng.choice(special) if special and (not digits or rng.random() < 0.3) else rng.choice(digits))
            c.step(s)
            if s == NEWLINE:
                if int(width) < 0:
                    width = col.clone()
                rows, col = rows + 1, torch.tensor([0])
            elif s < NEWLINE:
                col = col + 1


def test_growing_cache_crops_and_selects_like_the_dynamic_cache():
    from transformers import DynamicCache

    model = tiny_lm(seed=1)
    ids = torch.randint(0, 10, (3, 12))
    grow = new_cache(model)
    assert grow is not None
    with torch.no_grad():
        a = model(input_ids=ids, use_cache=True, **{CACHE_KW: grow})
        b = model(input_ids=ids, use_cache=True, **{CACHE_KW: DynamicCache()})
        for cache in (getattr(a, CACHE_KW), getattr(b, CACHE_KW)):
            cache.crop(-4)
            cache.batch_select_indices(torch.tensor([2, 0]))
        step = torch.tensor([[3], [5]])
        pos = torch.tensor([[8], [8]])
        x = model(input_ids=step, position_ids=pos, use_cache=True, **{CACHE_KW: getattr(a, CACHE_KW)})
        y = model(input_ids=step, position_ids=pos, use_cache=True, **{CACHE_KW: getattr(b, CACHE_KW)})
    assert getattr(x, CACHE_KW).get_seq_length() == getattr(y, CACHE_KW).get_seq_length() == 9
    torch.testing.assert_close(x.logits, y.logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 3, 6])
def test_draft_greedy_equals_a_plain_loop(seed):
    from arcttt.fast.draft_decode import draft_greedy_decode

    model = tiny_lm(seed=seed)
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    rng = np.random.default_rng(seed + 20)
    for _ in range(3):
        prompt = encode_task(random_task(rng, k=2, max_side=4)).ids
        tokens, lp = draft_greedy_decode(model, prompt, GRID_VOCAB, max_positions=1024, max_new_tokens=40)
        ref_tokens, ref_lp = _reference_greedy(model, prompt, 40)
        assert tokens == ref_tokens
        assert lp == pytest.approx(ref_lp, abs=1e-3)


def test_draft_greedy_accepts_copied_drafts_and_equals_batched_greedy(overfit):
    """The overfit model's answer shares cells with its input: drafts are accepted several at a time."""
    from arcttt.fast.draft_decode import draft_greedy_decode

    model, task = overfit
    prompt = encode_task(task).ids
    calls = []
    hook = model.register_forward_pre_hook(lambda m, a, k: calls.append(k["input_ids"].shape[1]), with_kwargs=True)
    try:
        tokens, lp = draft_greedy_decode(model, prompt, GRID_VOCAB, max_positions=1024, max_new_tokens=200)
    finally:
        hook.remove()
    ref_tokens, ref_lp = greedy_decode(model, [prompt], GRID_VOCAB, max_positions=1024)[0]
    assert tokens == ref_tokens and lp == pytest.approx(ref_lp, abs=1e-4)
    assert len(calls) - 1 < len(tokens)  # fewer decode passes than tokens


def _same_length_prompts(seed: int) -> list[np.ndarray]:
    """Views of one random task that keep every grid's shape: prompts of one length."""
    from arcttt.method.config import InferenceConfig
    from arcttt.method.inference import augmented_views

    task = random_task(np.random.default_rng(seed), k=2, max_side=4).without_solutions()
    cfg = InferenceConfig(transforms=("identity", "flip_h", "flip_v", "rot180"), orders=2, colours=0)
    prompts = [v.prompt.ids for v in augmented_views(task, 0, cfg, GRID_VOCAB, seed)]
    assert len({len(p) for p in prompts}) == 1 and len(prompts) >= 4
    return prompts


@pytest.mark.parametrize("seed", [1, 4, 7])
def test_batched_drafts_equal_a_plain_loop_per_prompt(seed):
    """Rows settle different numbers of drafts and finish at different lengths; each row's result is
    still its own greedy decode."""
    from arcttt.fast.draft_decode import batched_draft_greedy_decode

    model = tiny_lm(seed=seed)
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    prompts = _same_length_prompts(seed + 30)
    got = batched_draft_greedy_decode(model, prompts, GRID_VOCAB, max_positions=1024, max_new_tokens=40)
    assert len(got) == len(prompts)
    for prompt, (tokens, lp) in zip(prompts, got):
        ref_tokens, ref_lp = _reference_greedy(model, prompt, 40)
        assert tokens == ref_tokens
        assert lp == pytest.approx(ref_lp, abs=1e-3)


def test_batched_drafts_take_several_symbols_per_pass(overfit):
    """The overfit model copies its answer from cells of the input: with the task's prompt twice in a
    batch, both rows settle drafts several at a time and agree with one-at-a-time decoding."""
    from arcttt.fast.draft_decode import batched_draft_greedy_decode, draft_greedy_decode

    model, task = overfit
    prompt = encode_task(task).ids
    calls = []
    hook = model.register_forward_pre_hook(lambda m, a, k: calls.append(k["input_ids"].shape), with_kwargs=True)
    try:
        got = batched_draft_greedy_decode(model, [prompt, prompt.copy()], GRID_VOCAB, 1024, 200)
    finally:
        hook.remove()
    single = draft_greedy_decode(model, prompt, GRID_VOCAB, 1024, 200)
    assert got[0][0] == got[1][0] == single[0]
    assert got[0][1] == pytest.approx(single[1], abs=1e-4)
    assert all(shape[0] == 2 for shape in calls)  # one batch all along
    assert len(calls) - 1 < len(single[0])


def test_batched_drafts_refuse_prompts_of_different_lengths():
    from arcttt.errors import ArcTTTError
    from arcttt.fast.draft_decode import batched_draft_greedy_decode

    prompts = _same_length_prompts(2)
    with pytest.raises(ArcTTTError, match="one length"):
        batched_draft_greedy_decode(tiny_lm(seed=0), [prompts[0], prompts[1][:-3]], GRID_VOCAB, 1024, 20)


def test_decode_plan_groups_draft_chunks_by_length():
    from arcttt.method.inference import decode_plan

    lengths = [30, 10, 30, 20, 30, 10]
    assert decode_plan(lengths, "greedy", True, 2) == [([1, 5], "drafts"), ([3], "drafts"), ([0, 2], "drafts"),
                                                        ([4], "drafts")]
    assert decode_plan(lengths, "greedy", False, 4) == [([1, 5, 3, 0], "batched"), ([2, 4], "batched")]
    assert decode_plan(lengths, "dfs", False, 4) == [([i], "dfs") for i in (1, 5, 3, 0, 2, 4)]


def test_drafts_copy_the_input_then_the_row_above():
    from arcttt.fast.draft_decode import draft

    source = [1, 2, NEWLINE, 3, 4, NEWLINE]
    assert draft([], None, source, 4) == [1, 2, NEWLINE, 3]
    assert draft([1, 2, NEWLINE, 3], 2, source, 8) == [4, NEWLINE, END]
    # a wider output than the input, repeating its first row: copy the row above
    out = [5, 6, 7, NEWLINE, 5, 6, 7, NEWLINE]
    assert draft(out, 3, source, 5) == [5, 6, 7, NEWLINE, 5]


def test_folded_adapter_predicts_the_same_and_restores_the_base_weights():
    from arcttt.method.config import InferenceConfig
    from arcttt.method.inference import predict

    adapter = TaskAdapter(loaded(tiny_lm(seed=4)), TTTConfig(mode="lora", lora_rank=4, lora_alpha=8))
    with torch.no_grad():
        for p in adapter.trainable_parameters():
            p.normal_(0, 0.1)
    before = {n: p.detach().clone() for n, p in adapter.model.named_parameters()}
    task = random_task(np.random.default_rng(3), k=2, max_side=4).without_solutions()
    cfg = InferenceConfig(transforms=("identity", "rot90"), orders=1, colours=0)
    plain = predict(adapter.model, GRID_VOCAB, task, cfg)
    with adapter.folded() as model:
        folded = predict(model, GRID_VOCAB, task, cfg)
    assert [[(c.grid.tolist(), c.transform) for c in cs] for cs in plain] == \
        [[(c.grid.tolist(), c.transform) for c in cs] for cs in folded]
    for a, b in zip(plain[0], folded[0]):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-3)
    for n, p in adapter.model.named_parameters():
        assert torch.equal(p, before[n]), n


def test_drafts_setting_auto_means_on_for_the_cpu():
    from arcttt.errors import ArcTTTError
    from arcttt.method.config import InferenceConfig
    from arcttt.method.inference import use_drafts

    model = tiny_lm(seed=1)
    assert use_drafts(InferenceConfig(), model)
    assert use_drafts(InferenceConfig(drafts="on"), model)
    assert not use_drafts(InferenceConfig(drafts="off"), model)
    with pytest.raises(ArcTTTError, match="unknown drafts setting"):
        use_drafts(InferenceConfig(drafts="maybe"), model)


def test_lora_ttt_matches_the_transformers_trainer_on_the_same_batches(tmp_path):
    """arcttt's TTT loop (merged-LoRA layers, fused AdamW, no attention mask, loss at target positions only)
    and transformers.Trainer + peft end with the same LoRA weights when they see the same batches under the
    same schedule: with two examples and batch size 2 both train on the one batch every step."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from arcttt.method.models import load_model, save_model
    from arcttt.method.ttt import encode_examples
    from arcttt.method.ttt_data import TTTExample
    from arcttt.seeding import derive_seed

    save_model(tiny_lm(seed=4), tmp_path / "m")
    rng = np.random.default_rng(3)
    tasks = [random_task(rng, k=3, max_side=5, task_id=f"t{i}") for i in range(2)]
    examples = [TTTExample(t.train[:-1], t.train[-1]) for t in tasks]
    cfg = TTTConfig(mode="lora", lora_rank=16, lora_alpha=32, precision="fp32", max_steps=3, warmup_frac=0.0, lr=1e-2)
    adapter = TaskAdapter(load_model(tmp_path / "m", "cpu"), cfg, seed=0)
    from arcttt.fast.lora_merge import merged_lora_training

    with merged_lora_training(adapter.model) as switched:
        assert switched > 0  # rank 16 on these layers: the merged-weight path is the one trained
    report = adapter._train(examples, seed=0, desc="ttt")
    assert report.steps == 3

    encoded = encode_examples(examples, GRID_VOCAB, cfg.loss)
    assert len({len(e) for e in encoded}) > 1  # the Trainer's batch is padded, arcttt's runs without a mask

    def collator(batch):
        ids, attn, target = collate(batch, PAD_ID, "cpu")
        return {"input_ids": ids, "attention_mask": attn, "labels": torch.where(target, ids, -100)}

    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m", dtype=torch.float32)
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    torch.manual_seed(derive_seed(0, "lora-init"))  # the adapter's initial LoRA weights
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, bias="none",
                                             target_modules=[t for t in cfg.target_modules if t in names]))
    args = TrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, learning_rate=1e-2,
                             max_steps=3, warmup_steps=0, lr_scheduler_type="cosine", weight_decay=0.0,
                             max_grad_norm=1.0, report_to="none", save_strategy="no", logging_strategy="no",
                             use_cpu=True, remove_unused_columns=False, disable_tqdm=True, dataloader_num_workers=0)
    Trainer(model=model, args=args, train_dataset=encoded, data_collator=collator).train()
    theirs = dict(model.named_parameters())
    mine = {n: p for n, p in adapter.model.named_parameters() if "lora_" in n}
    assert mine and all(n in theirs for n in mine)
    moved = max((p - adapter._initial[n]).abs().max().item() for n, p in mine.items())
    assert moved > 1e-2  # the adapters did train (three steps of lr 1e-2)
    # Adam turns a rounding-level gradient difference on a near-zero entry into a step-sized one, so a
    # rare entry may differ by a fraction of one step; everything else agrees to rounding
    diffs = torch.cat([(p - theirs[n]).abs().flatten() for n, p in mine.items()])
    assert diffs.max().item() < 1e-3
    assert diffs.mean().item() < 1e-6
