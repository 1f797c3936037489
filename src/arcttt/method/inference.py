"""Augmented inference: predict under many invertible views of a task, invert, return candidates.

For each transform of the voting set, a few demonstration orders and optionally colour
permutations, the task is transformed, encoded and decoded (views whose prompts coincide
are decoded once; under a deadline, by priority until time runs out);
prompts decode in batches through a KV cache (see decode_plan), their outputs
restricted to valid grid tokens (codec.GridConstraint). Each prediction is mapped
back with the inverse transform and returned as a voting.Candidate with its
log-probability.
The engine knows nothing of voting; voting knows nothing of models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..data.codec import (END, NEWLINE, PAD, CodecError, Encoded, Vocab, decode_grid, encode, output_budget,
                          output_length, sequence_length)
from ..data.tasks import MAX_SIDE, Grid, Task, grid_key
from ..data.transforms import VOTING_NAMES, Transform, compose, order_permutation, parse, random_colour_permutation
from ..errors import ArcTTTError, TransformError
from ..fast.kv_cache import CACHE_KW, crop_cache, new_cache  # noqa: F401 (re-exported)
from ..seeding import rng_for
from .config import DRAFTS, SAMPLERS, InferenceConfig
from .voting import Candidate

MAX_OUTPUT_TOKENS = output_budget(MAX_SIDE)


def use_drafts(config: InferenceConfig, model) -> bool:
    """Whether greedy decoding goes through draft_decode (needs a croppable KV cache)."""
    if config.drafts not in DRAFTS:
        raise ArcTTTError(f"unknown drafts setting '{config.drafts}'; choose from {', '.join(DRAFTS)}")
    if config.drafts == "off" or new_cache(model) is None:
        return False
    return config.drafts == "on" or next(model.parameters()).device.type == "cpu"


@dataclass
class View:
    transform: Transform
    prompt: Encoded
    rank: int = 0
    """Decoding priority under a time budget: plain views (every transform, order 0 first), then the
    colour-permuted copies."""


def augmented_views(task: Task, test_index: int, config: InferenceConfig, vocab: Vocab, seed: int) -> list[View]:
    """The transformed prompts of one test input, deterministic in (seed, task id, test index).

    Each transform is decoded under `orders` demonstration orders (the original first), each of those
    as is and under `colours` colour permutations that keep black."""
    if config.colours < 0 or config.orders < 1:
        raise ArcTTTError(f"inference needs orders >= 1 and colours >= 0 (got {config.orders}, {config.colours})")
    rng = rng_for(seed, task.id, test_index, "views")
    colour_rng = rng_for(seed, task.id, test_index, "view colours")  # more colours never change the plain views
    visible = task.without_solutions()
    views = []
    seen = set()
    k = len(task.train)
    for name in config.transforms:
        for o in range(config.orders):
            order = [order_permutation(rng.permutation(k))] if o > 0 and k > 1 else []
            for c in range(1 + config.colours):
                colour = [random_colour_permutation(colour_rng)] if c > 0 else []
                t = compose(parse(name), *colour, *order)
                if t.name in seen:
                    continue
                seen.add(t.name)
                view = t.apply_task(visible)
                views.append(View(t, encode(view.train, view.test[test_index].input, vocab=vocab),
                                  rank=c * config.orders + o))
    return views


def _room_for_answer(demos, query: Grid, max_positions: int) -> bool:
    """Whether the prompt of `demos` and `query` leaves room for an answer as long as the longest
    demonstration output."""
    answer = max(output_length(p.output) for p in demos)
    return sequence_length(demos, query) + answer < max_positions - 2


def demonstrations_within(task: Task, test_index: int, max_positions: int) -> Task:
    """The task with its longest demonstrations dropped, one at a time, until the prompt of test input
    `test_index` leaves room for an answer as long as the longest remaining demonstration output.

    A few ARC tasks (large grids, many demonstrations) exceed the model's context with all of them;
    with fewer demonstrations the model still answers instead of failing the task. Keeps at least one
    demonstration; a task that fits is returned unchanged."""
    query = task.test[test_index].input
    train = list(task.train)
    while len(train) > 1 and not _room_for_answer(train, query, max_positions):
        train.remove(max(train, key=lambda p: sequence_length([p], query)))
    if len(train) == len(task.train):
        return task
    return Task(task.id, train, task.test, task.source, dict(task.meta))


def context_task(task: Task, test_index: int, transforms: Sequence[str], max_positions: int) -> Task:
    """The task whose demonstrations inference and PoE scoring use: the task itself where the prompt of
    test input `test_index` leaves room for an answer as long as the longest demonstration output under
    one of `transforms` at least (colour permutations and demonstration orders keep lengths), else
    demonstrations_within. A prompt that fits without that room decodes no whole grid under any view."""
    query = task.test[test_index].input
    for name in transforms:
        t = parse(name)
        if _room_for_answer(t.apply_task(task).train, t.apply(query), max_positions):
            return task
    return demonstrations_within(task, test_index, max_positions)


def views_within(task: Task, test_index: int, config: InferenceConfig, vocab: Vocab, seed: int,
                 max_positions: int, stats: dict | None = None) -> list[View]:
    """The augmented views whose prompts fit the context, of the task's context_task. Counts dropped
    demonstrations in `stats`."""
    shorter = context_task(task, test_index, config.transforms, max_positions)
    views = [v for v in augmented_views(shorter, test_index, config, vocab, seed) if len(v.prompt) < max_positions - 2]
    if not views:
        raise ArcTTTError(f"task {task.id}: every prompt is longer than the context limit {max_positions}, "
                          "even with one demonstration")
    if shorter is not task and stats is not None:
        stats["demonstrations_dropped"] = stats.get("demonstrations_dropped", 0) + len(task.train) - len(shorter.train)
    return views


def _left_pad(prompts: Sequence[np.ndarray], pad_id: int, device, extra: int = 0):
    """Left-padded ids and an attention mask with `extra` more (all-ones) columns for the tokens to come."""
    n = max(len(p) for p in prompts)
    ids = np.full((len(prompts), n), pad_id, dtype=np.int64)
    attn = np.ones((len(prompts), n + extra), dtype=np.int64)
    for i, p in enumerate(prompts):
        ids[i, n - len(p):] = p
        attn[i, : n - len(p)] = 0
    return torch.from_numpy(ids).to(device), torch.from_numpy(attn).to(device)


def grid_allowed(width: torch.Tensor, rows: torch.Tensor, col: torch.Tensor, n_symbols: int,
                 max_side: int = MAX_SIDE) -> torch.Tensor:
    """codec.GridConstraint.allowed for a batch of states, as a [B, n_symbols] bool mask."""
    limit = torch.where(width < 0, torch.full_like(width, max_side), width)
    allowed = torch.zeros(len(width), n_symbols, dtype=torch.bool, device=width.device)
    allowed[:, :NEWLINE] = ((col < limit) & (rows < max_side)).unsqueeze(1)
    allowed[:, NEWLINE] = (col > 0) & ((width < 0) | (col == width))
    allowed[:, END] = (col == 0) & (rows > 0)
    return allowed


@torch.inference_mode()
def greedy_decode(model, prompts: Sequence[np.ndarray], vocab: Vocab, max_positions: int,
                  max_new_tokens: int | None = None, max_side: int = MAX_SIDE) -> list[tuple[list[int], float]]:
    """Constrained greedy decoding of a batch: (generated token ids, total log-probability) per prompt.

    Only valid grid continuations are allowed, so every finished output parses; a
    prompt that reaches the context limit first returns its unfinished tokens.

    One KV-cached decode for the whole batch: the grid constraint is evaluated for all rows at
    once, the cache grows in place, and rows whose grid is finished leave the batch (so one long
    output does not drag the finished ones along). Prompts of equal length need no attention
    mask at all.
    """
    device = next(model.parameters()).device
    batch = len(prompts)
    n = max(len(p) for p in prompts)
    budget = min(output_budget(max_side) if max_new_tokens is None else max_new_tokens, max_positions - n)
    if budget <= 0:
        raise ArcTTTError(f"prompt of {n} tokens leaves no room under the context limit {max_positions}")
    ids, attn_full = _left_pad(prompts, vocab.id(PAD), device, extra=budget)
    padded = bool((attn_full[:, :n] == 0).any())
    lookup = torch.tensor(vocab.ids, device=device)
    n_sym = len(vocab.ids)
    # grid-constraint state of each row still in the batch (codec.GridConstraint, vectorised)
    width = torch.full((batch,), -1, dtype=torch.long, device=device)
    rows = torch.zeros(batch, dtype=torch.long, device=device)
    col = torch.zeros(batch, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    alive = torch.arange(batch, device=device)  # original index of each row in the batch
    symbols = torch.full((batch, budget), -1, dtype=torch.long, device=device)
    length = torch.zeros(batch, dtype=torch.long, device=device)
    logprob = torch.zeros(batch, dtype=torch.float64, device=device if device.type != "mps" else "cpu")

    cache = new_cache(model)
    kw = {CACHE_KW: cache} if cache is not None else {}
    if padded:
        attn = attn_full[:, :n]
        position = (attn.cumsum(-1) - 1).clamp(min=0)
        result = model(input_ids=ids, attention_mask=attn, position_ids=position, use_cache=True,
                       logits_to_keep=1, **kw)
    else:  # no padding: no mask, SDPA's causal kernel
        position = torch.arange(n, device=device).unsqueeze(0).expand(batch, n)
        result = model(input_ids=ids, position_ids=position, use_cache=True, logits_to_keep=1, **kw)
    cache = getattr(result, CACHE_KW)
    can_drop = cache is not None and hasattr(cache, "batch_select_indices")
    logits = result.logits[:, -1]
    next_pos = position[:, -1:] + 1
    for step in range(budget):
        allowed = grid_allowed(width, rows, col, n_sym, max_side)
        allowed[done, PAD] = True  # finished rows (only kept when the cache cannot drop them)
        logp = torch.log_softmax(logits.float(), dim=-1)
        sym_logp = logp[:, lookup].masked_fill(~allowed, float("-inf"))
        choice = sym_logp.argmax(-1)
        active = ~done
        chosen_lp = sym_logp.gather(1, choice.unsqueeze(1)).squeeze(1)
        idx = alive[active]
        symbols[idx, length[idx]] = choice[active]
        length[idx] += 1
        logprob[idx.to(logprob.device)] += chosen_lp[active].double().to(logprob.device)
        is_nl = (choice == NEWLINE) & active
        width = torch.where(is_nl & (width < 0), col, width)
        rows = rows + is_nl.long()
        col = torch.where(is_nl, torch.zeros_like(col), col + ((choice < NEWLINE) & active).long())
        done = done | ((choice == END) & active)
        if bool(done.all()):
            break
        feed = torch.where(done, torch.full_like(choice, PAD), choice)
        if can_drop and bool(done.any()):
            keep = (~done).nonzero().flatten()
            cache.batch_select_indices(keep)
            alive, width, rows, col, done, feed, next_pos = (t[keep] for t in (alive, width, rows, col, done, feed,
                                                                              next_pos))
            attn_full = attn_full[keep]
            padded = padded and bool((attn_full[:, :n] == 0).any())
        step_ids = lookup[feed].unsqueeze(1)
        if padded:
            result = model(input_ids=step_ids, attention_mask=attn_full[:, : n + step + 1], position_ids=next_pos,
                           use_cache=True, **{CACHE_KW: cache})
        else:
            result = model(input_ids=step_ids, position_ids=next_pos, use_cache=True, **{CACHE_KW: cache})
        cache = getattr(result, CACHE_KW)
        logits = result.logits[:, -1]
        next_pos = next_pos + 1
    ids_of = vocab.ids
    out = []
    sym_rows, lengths, lps = symbols.cpu().tolist(), length.cpu().tolist(), logprob.cpu().tolist()
    for i in range(batch):
        out.append(([ids_of[s] for s in sym_rows[i][: lengths[i]]], float(lps[i])))
    return out


def model_max_positions(model) -> int:
    cfg = getattr(model, "config", None)
    return int(getattr(cfg, "max_position_embeddings", 2048) or 2048)


def decode_plan(lengths: Sequence[int], sampler: str, drafts: bool, batch_size: int) -> list[tuple[list[int], str]]:
    """Chunks of prompt positions (in `lengths`) and how each decodes: 'dfs', 'drafts' or 'batched'.

    Shortest prompts first, so a batched chunk holds similar lengths (equal ones need no padding or
    mask); draft chunks hold prompts of one length (their rows advance together), which beat both one
    prompt at a time and batched steps on the CPU (docs/performance.md, "Inference").
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    if sampler == "dfs":
        return [([i], "dfs") for i in order]
    if not drafts:
        return [(order[s:s + batch_size], "batched") for s in range(0, len(order), batch_size)]
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(lengths[i], []).append(i)
    return [(g[s:s + batch_size], "drafts") for g in groups.values() for s in range(0, len(g), batch_size)]


def decode_prompts(model, prompts: Sequence[np.ndarray], vocab: Vocab, config: InferenceConfig,
                   max_positions: int, stats: dict | None = None,
                   max_side: int = MAX_SIDE) -> list[list[tuple[list[int], float]]]:
    """The decodes (token ids, log-probability) of every prompt, each distinct prompt decoded once;
    output grids have sides of at most max_side.

    Views of a task often coincide (a flip of a symmetric grid is the same grid). Decoding is deterministic, so a repeated prompt gets the first one's results
    and still counts as its own view in voting. `stats` counts the work actually done.
    """
    if config.sampler not in SAMPLERS:
        raise ArcTTTError(f"unknown sampler '{config.sampler}'; choose from {', '.join(SAMPLERS)}")
    keys = [np.asarray(p, dtype=np.int64).tobytes() for p in prompts]
    first_of: dict[bytes, int] = {}  # each distinct prompt -> the index of its first occurrence
    for i, key in enumerate(keys):
        first_of.setdefault(key, i)
    distinct = list(first_of.values())
    drafts = config.sampler == "greedy" and use_drafts(config, model)
    decoded_of: dict[int, list[tuple[list[int], float]]] = {}
    plan = decode_plan([len(prompts[j]) for j in distinct], config.sampler, drafts, config.batch_size)
    for members, how in plan:
        chunk_ids = [distinct[m] for m in members]
        chunk = [prompts[j] for j in chunk_ids]
        if how == "dfs":
            from ..fast.dfs import dfs_decode

            decoded = [dfs_decode(model, p, vocab, max_positions, config.dfs_threshold, config.dfs_max_results,
                                  max_side=max_side) for p in chunk]
        elif how == "drafts":
            from ..fast.draft_decode import batched_draft_greedy_decode

            decoded = [[d] for d in batched_draft_greedy_decode(model, chunk, vocab, max_positions,
                                                                output_budget(max_side), max_side)]
        else:
            decoded = [[d] for d in greedy_decode(model, chunk, vocab, max_positions, max_side=max_side)]
        decoded_of.update(zip(chunk_ids, decoded))
        if stats is not None:
            stats["prompt_tokens"] = stats.get("prompt_tokens", 0) + sum(len(p) for p in chunk)
            stats["generated_tokens"] = stats.get("generated_tokens", 0) + sum(len(t) for d in decoded for t, _ in d)
    if stats is not None:
        stats["prompts"] = stats.get("prompts", 0) + len(prompts)
        stats["distinct_prompts"] = stats.get("distinct_prompts", 0) + len(distinct)
    return [decoded_of[first_of[key]] for key in keys]


def predict(model, vocab: Vocab, task: Task, config: InferenceConfig | None = None,
            seed: int = 0, stats: dict | None = None, deadline: float | None = None) -> list[list[Candidate]]:
    """Candidates (already inverted to the task's frame) for every test input of the task.

    With `stats`, adds the number of prompts (views), distinct prompts, and the prompt and generated
    tokens actually decoded to it. With a `deadline` (a time.perf_counter() value), views are decoded
    by priority (View.rank), one rank at a time, while the next rank is expected (from the last one's
    time) to end within the test input's share of the time left; the first rank is always decoded, so
    every test input gets candidates.
    """
    config = config or InferenceConfig()
    max_positions = config.max_positions or model_max_positions(model)
    max_side = task.grid_limit()
    out = []
    for ti in range(len(task.test)):
        views = views_within(task, ti, config, vocab, seed, max_positions, stats)
        if deadline is None:
            rounds = [views]
        else:
            ranks = sorted({v.rank for v in views})
            rounds = [[v for v in views if v.rank == r] for r in ranks]
            now = time.perf_counter()
            test_deadline = now + max(0.0, deadline - now) / (len(task.test) - ti)
        candidates = []
        round_seconds = 0.0
        for n_round, views_of_round in enumerate(rounds):
            round_start = time.perf_counter()
            if deadline is not None and n_round and round_start + round_seconds > test_deadline:
                if stats is not None:
                    stats["views_skipped"] = stats.get("views_skipped", 0) + sum(map(len, rounds[n_round:]))
                break
            decoded_of = decode_prompts(model, [v.prompt.ids for v in views_of_round], vocab, config, max_positions,
                                        stats, max_side)
            for j, v in enumerate(views_of_round):
                for tokens, lp in decoded_of[j]:
                    try:
                        grid = v.transform.invert(decode_grid(tokens, vocab, max_side))
                    except (CodecError, TransformError):
                        continue  # unfinished under the context limit, or not invertible
                    candidates.append(Candidate(grid, v.transform.name, lp))
            round_seconds = time.perf_counter() - round_start
        out.append(candidates)
    return out


@torch.inference_mode()
def score_grids(model, vocab: Vocab, task: Task, test_index: int, grids: Sequence[Grid],
                transforms: Sequence[str] = VOTING_NAMES) -> dict[tuple, float]:
    """Product of experts: each grid's log-probability summed over the views in `transforms`.

    The grids of one view share its prompt, which is far longer than any answer: the prompt runs once
    into a KV cache, and each grid runs only its own answer tokens on top of it."""
    max_positions = model_max_positions(model)
    visible = context_task(task.without_solutions(), test_index, transforms, max_positions)  # as predict's views
    scores = {grid_key(g): 0.0 for g in grids}
    device = next(model.parameters()).device
    for name in transforms:
        t = parse(name)
        view = t.apply_task(visible)
        q = view.test[test_index].input
        answers = [(grid_key(g), encode(view.train, q, t.apply(g), vocab, loss="query")) for g in grids]
        answers = [(key, e) for key, e in answers if len(e) <= max_positions]
        if not answers:
            continue
        n = answers[0][1].prompt_length
        prompt = torch.as_tensor(answers[0][1].ids[:n], device=device).unsqueeze(0)
        cache = new_cache(model)
        out = model(input_ids=prompt, use_cache=True, logits_to_keep=1,
                    **({CACHE_KW: cache} if cache is not None else {}))
        cache, first = getattr(out, CACHE_KW), torch.log_softmax(out.logits[0, -1].float(), -1)
        for key, e in answers:
            answer = torch.as_tensor(e.ids[n:], device=device)
            logp = first[answer[0]]
            if len(answer) > 1:
                crop_cache(cache, n)
                out = model(input_ids=answer[:-1].unsqueeze(0), position_ids=torch.arange(n, len(e) - 1, device=device)
                            .unsqueeze(0), use_cache=True, **{CACHE_KW: cache})
                cache = getattr(out, CACHE_KW)
                rest = torch.log_softmax(out.logits[0].float(), -1).gather(-1, answer[1:].unsqueeze(-1))
                logp = logp + rest.sum()
            scores[key] += float(logp)
    return scores


__all__ = ["augmented_views", "greedy_decode", "predict", "score_grids"]
