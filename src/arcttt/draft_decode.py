"""Greedy decoding with drafts copied from the query's input grid (prompt-lookup speculation).

Decoding is bound by reading the KV cache once per generated token. ARC outputs are mostly
copies: of the input grid cell by cell (same-shape tasks) or of the row above (tilings,
stripes). So each step proposes the next few symbols from those sources and the model checks
them all in one forward pass; the longest prefix that equals the model's own constrained
greedy choices is kept, plus the model's next choice. The result is the greedy decode, in
fewer forward passes: a draft never changes which token wins, only how many are verified at
once. (Scores of several tokens computed together can differ from one-at-a-time scores in
the last float bits, as with any batching.)
"""

from __future__ import annotations

import numpy as np
import torch

from .codec import END, INPUT, OUTPUT, GridConstraint, Vocab
from .errors import ArcTTTError
from .kv_cache import CACHE_KW, crop_cache, new_cache

MIN_DRAFT, MAX_DRAFT = 4, 64


def query_symbols(prompt_symbols: np.ndarray) -> list[int]:
    """Symbols of the query input grid: between the prompt's last INPUT and its final OUTPUT marker."""
    starts = np.flatnonzero(prompt_symbols == INPUT)
    if len(starts) == 0 or prompt_symbols[-1] != OUTPUT:
        return []
    return prompt_symbols[starts[-1] + 1: -1].tolist()


def draft(out: list[int], width: int | None, source: list[int], n: int, window: int = 8) -> list[int]:
    """Up to n symbols guessed to follow `out`, copied from the source grid at the same position
    or from the output's row above: whichever would have guessed more of the last `window`
    symbols (the source on a tie, and alone while the output's width is unknown)."""
    t = len(out)
    aligned = (source + [END])[t: t + n]
    if width is None:
        return aligned
    step = width + 1
    recent = range(max(step, t - window), t)
    hits_source = sum(1 for i in recent if i < len(source) and out[i] == source[i])
    hits_above = sum(1 for i in recent if out[i] == out[i - step])
    if aligned and hits_source >= hits_above:
        return aligned
    guess = list(out)
    for _ in range(n):
        guess.append(guess[len(guess) - step])
    return guess[t:] if t >= step else aligned


@torch.inference_mode()
def draft_greedy_decode(model, prompt: np.ndarray, vocab: Vocab, max_positions: int,
                        max_new_tokens: int) -> tuple[list[int], float]:
    """Constrained greedy decoding of one prompt: (generated token ids, total log-probability)."""
    device = next(model.parameters()).device
    n = len(prompt)
    budget = min(max_new_tokens, max_positions - n)
    if budget <= 0:
        raise ArcTTTError(f"prompt of {n} tokens leaves no room under the context limit {max_positions}")
    sym_of = vocab.symbol_of()
    to_symbol = np.full(max(max(sym_of), int(np.max(prompt))) + 1, -1)
    to_symbol[list(sym_of)] = list(sym_of.values())
    source = query_symbols(to_symbol[np.asarray(prompt)])
    lookup = list(vocab.ids)
    lookup_t = torch.tensor(lookup, device=device)
    cache = new_cache(model)
    if cache is None:
        raise ArcTTTError("draft decoding needs a Hugging Face model with full attention (a croppable KV cache)")
    result = model(input_ids=torch.as_tensor(prompt, device=device).unsqueeze(0), use_cache=True,
                   logits_to_keep=1, **{CACHE_KW: cache})
    cache = getattr(result, CACHE_KW)
    step_logp = torch.log_softmax(result.logits[0, -1:].float(), -1)[:, lookup_t].tolist()
    constraint = GridConstraint()
    out: list[int] = []
    total = 0.0
    size = MIN_DRAFT
    # step_logp[j]: symbol scores after the j-th token of the last forward pass; pending[j]: the
    # drafted symbol fed right after it (row j checks it)
    pending: list[int] = []
    while True:
        accepted = 0
        finished = False
        for j in range(len(step_logp)):
            allowed = constraint.allowed()
            row = step_logp[j]
            choice = max(allowed, key=row.__getitem__)  # first of equals, as argmax
            total += row[choice]
            constraint.step(choice)
            out.append(choice)
            if choice == END or len(out) >= budget:
                finished = True
                break
            if j < len(pending) and pending[j] == choice:
                accepted += 1
                continue
            break
        if finished:
            break
        # cache holds the prompt plus every symbol of `out` but the last; drop rejected drafts
        keep = n + len(out) - 1
        crop_cache(cache, keep)
        size = min(MAX_DRAFT, size * 2) if pending and accepted == len(pending) else max(MIN_DRAFT, size // 2)
        room = budget - len(out)
        pending = [s for s in draft(out, constraint.width, source, min(size, room - 1)) if 0 <= s < len(lookup)]
        feed = [out[-1]] + pending
        ids = torch.tensor([[lookup[s] for s in feed]], device=device)
        pos = torch.arange(keep, keep + len(feed), device=device).unsqueeze(0)
        result = model(input_ids=ids, position_ids=pos, use_cache=True, **{CACHE_KW: cache})
        cache = getattr(result, CACHE_KW)
        step_logp = torch.log_softmax(result.logits[0].float(), -1)[:, lookup_t].tolist()
    return [lookup[s] for s in out], total
