"""inference: constrained, batched, KV-cached greedy decoding; augmented views; scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from arcttt.data.codec import GRID_VOCAB, CodecError, decode_grid, encode_task, output_length, sequence_length
from arcttt.data.tasks import Pair, Task
from arcttt.data.transforms import VOTING_NAMES
from arcttt.errors import ArcTTTError
from arcttt.method.config import InferenceConfig
from arcttt.method.inference import (MAX_OUTPUT_TOKENS, augmented_views, context_task, demonstrations_within,
                                     greedy_decode, predict, score_grids)
from conftest import colour_map_task, random_task, tiny_lm

IDENTITY = InferenceConfig(transforms=("identity",), orders=1, colours=0)


def _prompts(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [encode_task(random_task(rng, k=int(rng.integers(1, 4)), max_side=5)).ids for _ in range(n)]


def _sharpen(model, scale: float):
    """Random models with peaky output distributions finish grids of all shapes quickly."""
    with torch.no_grad():
        model.lm_head.weight.mul_(scale)
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_constrained_decoding_always_gives_a_valid_grid(seed):
    model = _sharpen(tiny_lm(seed=seed, max_positions=2048), 30.0)
    prompts = _prompts(8, seed)
    out = greedy_decode(model, prompts, GRID_VOCAB, max_positions=2048)
    assert len(out) == len(prompts)
    for tokens, lp in out:
        grid = decode_grid(tokens, GRID_VOCAB)  # the whole answer budget always suffices to finish
        assert 1 <= grid.shape[0] <= 30 and 1 <= grid.shape[1] <= 30
        assert len(tokens) <= MAX_OUTPUT_TOKENS
        assert np.isfinite(lp) and lp <= 0


def test_decoding_cut_off_by_the_budget_is_reported_unfinished():
    model = tiny_lm(seed=4)
    out = greedy_decode(model, _prompts(3, 4), GRID_VOCAB, max_positions=1024, max_new_tokens=3)
    for tokens, _ in out:
        assert len(tokens) <= 3
        if len(tokens) == 3 and tokens[-1] != GRID_VOCAB.id(14):
            with pytest.raises(CodecError):
                decode_grid(tokens, GRID_VOCAB)


@pytest.mark.parametrize("seed", [0, 5])
def test_left_padded_batch_equals_decoding_each_prompt_alone(seed):
    model = _sharpen(tiny_lm(seed=seed), 10.0)
    prompts = _prompts(5, seed + 100)
    assert len({len(p) for p in prompts}) > 1  # different lengths: left padding is exercised
    batched = greedy_decode(model, prompts, GRID_VOCAB, max_positions=1024, max_new_tokens=60)
    for p, (tokens, lp) in zip(prompts, batched):
        alone_tokens, alone_lp = greedy_decode(model, [p], GRID_VOCAB, max_positions=1024, max_new_tokens=60)[0]
        assert tokens == alone_tokens
        assert lp == pytest.approx(alone_lp, abs=1e-3, rel=1e-4)


def test_prompt_filling_the_context_is_an_error():
    model = tiny_lm(max_positions=64)
    long = encode_task(colour_map_task(0, side=6, k=3)).ids
    assert len(long) > 64
    with pytest.raises(ArcTTTError, match="no room"):
        greedy_decode(model, [long], GRID_VOCAB, max_positions=64)
    with pytest.raises(ArcTTTError, match="longer than the context limit"):
        predict(model, GRID_VOCAB, colour_map_task(0, side=6, k=3), IDENTITY)


def test_a_task_over_the_context_drops_its_longest_demonstrations():
    task = colour_map_task(0, side=3, k=3)
    big = np.arange(36, dtype=np.uint8).reshape(6, 6) % 10
    long_task = Task(task.id, [task.train[0], Pair(big, big), *task.train[1:]], task.test)
    assert len(encode_task(long_task).ids) > 126 > len(encode_task(task).ids) + 13
    assert demonstrations_within(task, 0, 128) is task
    shorter = demonstrations_within(long_task, 0, 128)
    assert [p for p in shorter.train] == task.train and shorter.test == task.test
    stats = {}
    candidates = predict(_sharpen(tiny_lm(max_positions=128), 8.0), GRID_VOCAB, long_task, IDENTITY, stats=stats)
    assert len(candidates) == 1 and stats["demonstrations_dropped"] == 1 and stats["prompts"] == 1
    grid = task.test[0].output
    model = tiny_lm(max_positions=128)
    scores = score_grids(model, GRID_VOCAB, task, 0, [grid])
    assert all(v < 0 for v in scores.values())  # every view scored the grid
    assert score_grids(model, GRID_VOCAB, long_task, 0, [grid]) == scores


def test_a_prompt_without_room_for_its_answer_drops_a_demonstration():
    """The prompt alone fits the context but an answer as long as the demonstrations' outputs does not
    (an ARC-AGI-2 task of five 30x22 pairs): kept whole, no view could decode a whole grid."""
    task = colour_map_task(0, side=3, k=3)
    prompt = sequence_length(task.train, task.test[0].input)
    answer = max(output_length(p.output) for p in task.train)
    limit = prompt + answer
    assert prompt < limit - 2
    shorter = context_task(task, 0, ["identity"], limit)
    assert len(shorter.train) == len(task.train) - 1 and shorter.test == task.test
    assert context_task(task, 0, ["identity"], limit + 3) is task


def test_overfit_model_decodes_the_target_grid(overfit):
    model, task = overfit
    prompt = encode_task(task).ids
    tokens, lp = greedy_decode(model, [prompt], GRID_VOCAB, max_positions=1024)[0]
    np.testing.assert_array_equal(decode_grid(tokens, GRID_VOCAB), task.test[0].output)
    assert lp > -1.0
    [candidates] = predict(model, GRID_VOCAB, task.without_solutions(), IDENTITY)
    assert len(candidates) == 1 and candidates[0].transform == "identity"
    np.testing.assert_array_equal(candidates[0].grid, task.test[0].output)
    assert candidates[0].logprob == pytest.approx(lp, abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_score_grids_runs_each_prompt_once_and_equals_whole_sequence_scoring(seed):
    """The prompt is cached once per view; each grid's answer tokens run on top of it. The sums equal
    teacher-forced log-probabilities of the whole sequences, grids of other shapes included."""
    from arcttt.data.codec import encode
    from arcttt.data.transforms import parse

    model = tiny_lm(seed=seed, max_positions=2048).eval()
    task = random_task(np.random.default_rng(seed), k=3, max_side=4).without_solutions()
    rng = np.random.default_rng(seed + 10)
    grids = [rng.integers(0, 10, size=shape).astype(np.uint8) for shape in [(2, 3), (2, 3), (4, 1), (1, 1)]]
    calls = []
    handle = model.register_forward_hook(lambda m, args, kw, out: calls.append(kw["input_ids"].shape),
                                         with_kwargs=True)
    scores = score_grids(model, GRID_VOCAB, task, 0, grids, VOTING_NAMES)
    handle.remove()
    long_calls = [c for c in calls if c[1] > 20]
    assert len(long_calls) == len(VOTING_NAMES)  # one prompt pass per view, however many grids
    for g in grids:
        want = 0.0
        for name in VOTING_NAMES:
            t = parse(name)
            view = t.apply_task(task)
            e = encode(view.train, view.test[0].input, t.apply(g), GRID_VOCAB, loss="query")
            ids = torch.as_tensor(e.ids).unsqueeze(0)
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
            per_token = logp.gather(-1, ids[0, 1:].unsqueeze(-1)).squeeze(-1)
            want += float(per_token[torch.as_tensor(e.loss_mask[1:])].sum())
        assert scores[(g.shape, g.tobytes())] == pytest.approx(want, abs=1e-3)


def test_score_grids_prefers_the_learned_answer(overfit):
    model, task = overfit
    right = task.test[0].output
    wrong = (right + 1) % 10
    scores = score_grids(model, GRID_VOCAB, task.without_solutions(), 0, [right, wrong], transforms=("identity",))
    assert set(scores) == {(right.shape, right.tobytes()), (wrong.shape, wrong.tobytes())}
    assert scores[(right.shape, right.tobytes())] > scores[(wrong.shape, wrong.tobytes())] + 5
    # the identity score is the answer's log-probability under greedy decoding's own model
    tokens, lp = greedy_decode(model, [encode_task(task).ids], GRID_VOCAB, max_positions=1024)[0]
    assert scores[(right.shape, right.tobytes())] == pytest.approx(lp, abs=1e-3)


def test_predictions_are_inverted_to_the_task_frame():
    # a model that always answers with the query input (a copy task) predicts the same grid in every view
    task = Task("copy", [Pair(np.array([[1, 2], [3, 4]], np.uint8), np.array([[1, 2], [3, 4]], np.uint8))],
                [Pair(np.array([[5, 6, 7]], np.uint8))])

    class Copier(torch.nn.Module):
        """Next-token logits that spell out the last query input grid, then END."""

        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))
            self.config = type("C", (), {"max_position_embeddings": 512})()

        def forward(self, input_ids, attention_mask=None, position_ids=None, use_cache=False, logits_to_keep=0,
                    **kw):
            self.seq = input_ids if not kw else torch.cat([self.seq, input_ids], 1)
            out = []
            for row in self.seq.tolist():
                row = [t for t in row if t != 15]
                o = len(row) - 1 - row[::-1].index(12)  # last 'O'
                i = len(row) - 1 - row[::-1].index(11)  # last 'I'
                grid_tokens = row[i + 1:o] + [14]
                k = len(row) - o - 1
                nxt = grid_tokens[k] if k < len(grid_tokens) else 14
                out.append(torch.nn.functional.one_hot(torch.tensor(nxt), 16).float() * 20)
            logits = torch.stack(out)[:, None, :]
            from types import SimpleNamespace

            from arcttt.method.inference import CACHE_KW
            return SimpleNamespace(logits=logits, **{CACHE_KW: None})

    [cands] = predict(Copier(), GRID_VOCAB, task, InferenceConfig(transforms=VOTING_NAMES, orders=1, colours=0))
    assert len(cands) == len(VOTING_NAMES)
    for c in cands:
        np.testing.assert_array_equal(c.grid, task.test[0].input)


def test_augmented_views_are_distinct_and_deterministic():
    task = colour_map_task(3, side=3, k=3).without_solutions()
    cfg = InferenceConfig(orders=2, colours=1)
    a = augmented_views(task, 0, cfg, GRID_VOCAB, seed=1)
    b = augmented_views(task, 0, cfg, GRID_VOCAB, seed=1)
    assert [v.transform.name for v in a] == [v.transform.name for v in b]
    assert all(np.array_equal(x.prompt.ids, y.prompt.ids) for x, y in zip(a, b))
    assert len({v.transform.name for v in a}) == len(a) == len(VOTING_NAMES) * 2 * 2
    # prompts only: each ends with the query's 'O' marker, no answer after it
    assert all(len(v.prompt) == v.prompt.prompt_length and v.prompt.ids[-1] == GRID_VOCAB.id(12) for v in a)


def test_views_with_the_same_prompt_are_decoded_once_with_the_same_results(monkeypatch):
    # every grid of this task is symmetric under all 8 symmetries, so all views' prompts coincide
    sym = np.array([[1, 2, 1], [2, 3, 2], [1, 2, 1]], np.uint8)
    task = Task("sym", [Pair(sym, sym), Pair(sym * 0 + 4, sym)], [Pair(sym)])
    cfg = InferenceConfig(transforms=VOTING_NAMES, orders=1, drafts="on", colours=0)
    model = _sharpen(tiny_lm(seed=3), 5.0)
    import arcttt.fast.draft_decode as dd

    calls = []
    real = dd.batched_draft_greedy_decode
    monkeypatch.setattr(dd, "batched_draft_greedy_decode",
                        lambda m, ps, *a, **k: calls.extend(ps) or real(m, ps, *a, **k))
    stats: dict = {}
    [cands] = predict(model, GRID_VOCAB, task, cfg, seed=0, stats=stats)
    views = augmented_views(task, 0, cfg, GRID_VOCAB, seed=0)
    distinct = {v.prompt.ids.tobytes() for v in views}
    assert len(views) == len(VOTING_NAMES) and len(distinct) < len(views)
    assert len(calls) == len(distinct) == stats["distinct_prompts"] and stats["prompts"] == len(views)
    # the same candidates, view by view, as decoding every view's prompt on its own
    reference = [dd.draft_greedy_decode(model, v.prompt.ids, GRID_VOCAB, 1024, MAX_OUTPUT_TOKENS) for v in views]
    assert [c.transform for c in cands] == [v.transform.name for v in views]
    for c, v, (tokens, lp) in zip(cands, views, reference):
        np.testing.assert_array_equal(c.grid, v.transform.invert(decode_grid(tokens, GRID_VOCAB)))
        assert c.logprob == pytest.approx(lp, abs=1e-4)  # batched rows: the same sums up to float rounding
