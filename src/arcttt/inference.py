"""Augmented inference: predict under many invertible views of a task, invert, return candidates.

For each transform of the voting set and a few demonstration orders, the task is
transformed, encoded and decoded; every prompt of a task goes through one
batched, KV-cached decode whose output is restricted to valid grid tokens
(codec.GridConstraint). Each prediction is mapped back with the inverse
transform and returned as a voting.Candidate with its log-probability.
The engine knows nothing of voting; voting knows nothing of models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .codec import END, PAD, CodecError, Encoded, GridConstraint, Vocab, decode_grid, encode, output_length
from .errors import ArcTTTError, TransformError
from .seeding import rng_for
from .tasks import MAX_SIDE, Grid, Task, grid_key
from .transforms import VOTING_NAMES, Transform, compose, order_permutation, parse, random_colour_permutation
from .voting import Candidate

MAX_OUTPUT_TOKENS = MAX_SIDE * (MAX_SIDE + 1) + 1


@dataclass
class InferenceConfig:
    transforms: tuple[str, ...] = VOTING_NAMES
    """Transforms of the voting set (the paper: identity, rotations, flips, transpose)."""
    orders: int = 2
    """Demonstration orders per transform: the original, then random permutations."""
    colour_permutation: bool = False
    """Also apply a random colour permutation (black kept) to each view."""
    batch_size: int = 16
    """Prompts decoded together."""
    max_positions: int | None = None
    """Context limit; default the model's max_position_embeddings."""


@dataclass
class View:
    transform: Transform
    prompt: Encoded


def augmented_views(task: Task, test_index: int, config: InferenceConfig, vocab: Vocab, seed: int) -> list[View]:
    """The transformed prompts of one test input, deterministic in (seed, task id, test index)."""
    rng = rng_for(seed, task.id, test_index, "views")
    visible = task.without_solutions()
    views = []
    seen = set()
    k = len(task.train)
    for name in config.transforms:
        for o in range(config.orders):
            parts = [parse(name)]
            if config.colour_permutation:
                parts.append(random_colour_permutation(rng))
            if o > 0 and k > 1:
                parts.append(order_permutation(rng.permutation(k)))
            t = compose(*parts)
            if t.name in seen:
                continue
            seen.add(t.name)
            view = t.apply_task(visible)
            views.append(View(t, encode(view.train, view.test[test_index].input, vocab=vocab)))
    return views


def _cache_keyword() -> str:
    """transformers renamed `past_key_values` to `cache`; use whichever this version takes."""
    import inspect

    from transformers import LlamaForCausalLM

    return "cache" if "cache" in inspect.signature(LlamaForCausalLM.forward).parameters else "past_key_values"


CACHE_KW = _cache_keyword()


def _left_pad(prompts: Sequence[np.ndarray], pad_id: int, device):
    n = max(len(p) for p in prompts)
    ids = np.full((len(prompts), n), pad_id, dtype=np.int64)
    attn = np.zeros((len(prompts), n), dtype=np.int64)
    for i, p in enumerate(prompts):
        ids[i, n - len(p):] = p
        attn[i, n - len(p):] = 1
    return torch.from_numpy(ids).to(device), torch.from_numpy(attn).to(device)


@torch.inference_mode()
def greedy_decode(model, prompts: Sequence[np.ndarray], vocab: Vocab, max_positions: int,
                  max_new_tokens: int = MAX_OUTPUT_TOKENS) -> list[tuple[list[int], float]]:
    """Constrained greedy decoding of a batch: (generated token ids, total log-probability) per prompt.

    Only valid grid continuations are allowed, so every finished output parses; a
    prompt that reaches the context limit first returns its unfinished tokens.
    """
    device = next(model.parameters()).device
    ids, attn = _left_pad(prompts, vocab.id(PAD), device)
    batch = len(prompts)
    budget = min(max_new_tokens, max_positions - ids.shape[1])
    if budget <= 0:
        raise ArcTTTError(f"prompt of {ids.shape[1]} tokens leaves no room under the context limit {max_positions}")
    lookup = torch.tensor(vocab.ids, device=device)
    constraints = [GridConstraint() for _ in range(batch)]
    out_tokens: list[list[int]] = [[] for _ in range(batch)]
    logprob = torch.zeros(batch, dtype=torch.float64)
    position = (attn.cumsum(-1) - 1).clamp(min=0)
    result = model(input_ids=ids, attention_mask=attn, position_ids=position, use_cache=True, logits_to_keep=1)
    cache = getattr(result, CACHE_KW)
    logits = result.logits[:, -1]
    next_pos = position[:, -1:] + 1
    for _ in range(budget):
        allowed = torch.zeros(batch, len(vocab.ids), dtype=torch.bool)
        for i, c in enumerate(constraints):
            allowed[i, c.allowed() or [PAD]] = True
        logp = torch.log_softmax(logits.float(), dim=-1)
        sym_logp = logp[:, lookup].cpu().masked_fill(~allowed, float("-inf"))
        choice = sym_logp.argmax(-1)
        feed = []
        for i, c in enumerate(constraints):
            if c.done:
                feed.append(vocab.id(PAD))
                continue
            s = int(choice[i])
            c.step(s)
            out_tokens[i].append(vocab.id(s))
            logprob[i] += float(sym_logp[i, s])
            feed.append(vocab.id(s))
        if all(c.done for c in constraints):
            break
        attn = torch.cat([attn, torch.ones(batch, 1, dtype=attn.dtype, device=device)], dim=1)
        step_ids = torch.tensor(feed, device=device).unsqueeze(1)
        result = model(input_ids=step_ids, attention_mask=attn, position_ids=next_pos,
                       use_cache=True, **{CACHE_KW: cache})
        cache = getattr(result, CACHE_KW)
        logits = result.logits[:, -1]
        next_pos = next_pos + 1
    return [(t, float(lp)) for t, lp in zip(out_tokens, logprob)]


def model_max_positions(model) -> int:
    cfg = getattr(model, "config", None)
    return int(getattr(cfg, "max_position_embeddings", 2048) or 2048)


def predict(model, vocab: Vocab, task: Task, config: InferenceConfig | None = None,
            seed: int = 0, stats: dict | None = None) -> list[list[Candidate]]:
    """Candidates (already inverted to the task's frame) for every test input of the task.

    With `stats`, adds the number of prompts, prompt tokens and generated tokens to it.
    """
    config = config or InferenceConfig()
    max_positions = config.max_positions or model_max_positions(model)
    out = []
    for ti in range(len(task.test)):
        views = augmented_views(task, ti, config, vocab, seed)
        views = [v for v in views if len(v.prompt) < max_positions - 2]
        if not views:
            raise ArcTTTError(f"task {task.id}: every prompt is longer than the context limit {max_positions}")
        candidates = []
        for start in range(0, len(views), config.batch_size):
            chunk = views[start:start + config.batch_size]
            decoded = greedy_decode(model, [v.prompt.ids for v in chunk], vocab, max_positions)
            if stats is not None:
                stats["prompts"] = stats.get("prompts", 0) + len(chunk)
                stats["prompt_tokens"] = stats.get("prompt_tokens", 0) + sum(len(v.prompt) for v in chunk)
                stats["generated_tokens"] = stats.get("generated_tokens", 0) + sum(len(t) for t, _ in decoded)
            for v, (tokens, lp) in zip(chunk, decoded):
                try:
                    grid = v.transform.invert(decode_grid(tokens, vocab))
                except (CodecError, TransformError):
                    continue  # unfinished under the context limit, or not invertible
                candidates.append(Candidate(grid, v.transform.name, lp))
        out.append(candidates)
    return out


@torch.inference_mode()
def score_grids(model, vocab: Vocab, task: Task, test_index: int, grids: Sequence[Grid],
                transforms: Sequence[str] = VOTING_NAMES, batch_size: int = 16) -> dict[tuple, float]:
    """Product of experts: each grid's log-probability summed over the views in `transforms`."""
    from .trainer import collate

    max_positions = model_max_positions(model)
    visible = task.without_solutions()
    items: list[tuple[tuple, Encoded]] = []
    for name in transforms:
        t = parse(name)
        view = t.apply_task(visible)
        q = view.test[test_index].input
        for g in grids:
            e = encode(view.train, q, t.apply(g), vocab, loss="query")
            if len(e) <= max_positions:
                items.append((grid_key(g), e))
    scores = {grid_key(g): 0.0 for g in grids}
    device = next(model.parameters()).device
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        ids, attn, target = collate([e for _, e in chunk], vocab.id(PAD), device)
        logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        per_seq = (logp * target[:, 1:]).sum(-1)
        for (key, _), v in zip(chunk, per_seq.tolist()):
            scores[key] += v
    return scores


__all__ = ["InferenceConfig", "augmented_views", "greedy_decode", "predict", "score_grids", "output_length", "END"]
