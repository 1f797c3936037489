"""dfs: depth-first sampling over grid-valid continuations (checked against greedy and teacher forcing)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from arcttt.data.codec import GRID_VOCAB, decode_grid, encode_task
from arcttt.errors import ArcTTTError
from arcttt.fast.dfs import dfs_decode
from arcttt.method.config import InferenceConfig
from arcttt.method.inference import greedy_decode, predict, score_grids
from conftest import colour_map_task, random_task, tiny_lm


def _teacher_forced_logprob(model, prompt: np.ndarray, tokens: list[int]) -> float:
    ids = torch.tensor(np.concatenate([prompt, tokens]))[None]
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
    n = len(prompt)
    return float(sum(logp[n - 1 + i, t] for i, t in enumerate(tokens)))


def test_first_result_on_an_overfit_model_is_the_greedy_answer(overfit):
    model, task = overfit
    prompt = encode_task(task).ids
    results = dfs_decode(model, prompt, GRID_VOCAB, max_positions=1024, threshold=0.05)
    greedy_tokens, greedy_lp = greedy_decode(model, [prompt], GRID_VOCAB, max_positions=1024)[0]
    assert results and results[0][0] == greedy_tokens
    assert results[0][1] == pytest.approx(greedy_lp, abs=1e-4)
    np.testing.assert_array_equal(decode_grid(results[0][0], GRID_VOCAB), task.test[0].output)


def _peaky_model(seed: int):
    model = tiny_lm(seed=seed)
    with torch.no_grad():
        model.lm_head.weight.mul_(6.0)  # some mass concentrated, some spread: several completions
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_results_are_valid_grids_above_the_threshold_with_teacher_forced_logprobs(seed):
    model = _peaky_model(seed)
    rng = np.random.default_rng(seed)
    prompt = encode_task(random_task(rng, k=2, max_side=3)).ids
    threshold = 0.02
    results = dfs_decode(model, prompt, GRID_VOCAB, max_positions=1024, threshold=threshold, max_results=50,
                         max_nodes=3000)
    assert len(results) <= 1 / threshold
    assert [lp for _, lp in results] == sorted((lp for _, lp in results), reverse=True)
    assert len({tuple(t) for t, _ in results}) == len(results)  # distinct completions
    for tokens, lp in results:
        grid = decode_grid(tokens, GRID_VOCAB)
        assert 1 <= grid.shape[0] <= 30 and 1 <= grid.shape[1] <= 30
        assert lp >= math.log(threshold) - 1e-9
        # the log-probability is the model's own (softmax over the whole vocabulary, not renormalised)
        tf = _teacher_forced_logprob(model, prompt, tokens)
        assert lp == pytest.approx(tf, abs=1e-3)


def test_logprob_equals_score_of_the_answer(overfit):
    model, task = overfit
    prompt = encode_task(task).ids
    [(tokens, lp)] = dfs_decode(model, prompt, GRID_VOCAB, max_positions=1024, threshold=0.5)
    scores = score_grids(model, GRID_VOCAB, task.without_solutions(), 0, [task.test[0].output], ("identity",))
    assert lp == pytest.approx(next(iter(scores.values())), abs=1e-3)


@pytest.mark.parametrize("seed", [0, 3])
def test_threshold_one_gives_at_most_one_result(seed):
    model = _peaky_model(seed)
    prompt = encode_task(random_task(np.random.default_rng(seed), k=2, max_side=3)).ids
    assert len(dfs_decode(model, prompt, GRID_VOCAB, max_positions=1024, threshold=1.0)) <= 1


def test_bad_threshold_and_full_context_are_errors():
    model = tiny_lm()
    prompt = encode_task(colour_map_task(0, side=2, k=2)).ids
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ArcTTTError, match="threshold"):
            dfs_decode(model, prompt, GRID_VOCAB, max_positions=1024, threshold=bad)
    with pytest.raises(ArcTTTError, match="no room"):
        dfs_decode(model, prompt, GRID_VOCAB, max_positions=len(prompt))


def test_predict_with_the_dfs_sampler(overfit):
    model, task = overfit
    cfg = InferenceConfig(transforms=("identity",), orders=1, sampler="dfs", dfs_threshold=0.05, colours=0)
    [candidates] = predict(model, GRID_VOCAB, task.without_solutions(), cfg)
    assert candidates and all(c.transform == "identity" for c in candidates)
    np.testing.assert_array_equal(candidates[0].grid, task.test[0].output)
    greedy = predict(model, GRID_VOCAB, task.without_solutions(), InferenceConfig(transforms=("identity",), orders=1, colours=0))
    assert candidates[0].logprob == pytest.approx(greedy[0][0].logprob, abs=1e-4)
    with pytest.raises(ArcTTTError, match="unknown sampler"):
        predict(model, GRID_VOCAB, task.without_solutions(), InferenceConfig(sampler="beam"))
